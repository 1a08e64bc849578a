"""Delivery test helpers: evidence files, report data, a report brought to a state
through the services."""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage

from procure.delivery import services as ds
from procure.delivery.models import ReportState

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"0" * 64
PDF = b"%PDF-1.4\n%test evidence\n" + b"1 0 obj\n<<>>\nendobj\n" * 4


def upload(data: bytes = PNG, name: str = "签到表.png") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name, name="evidence_file")


def full_data(n_actuals: int = 2, **kw) -> ds.ReportData:
    """A complete report: every actual, a narrative, two spending lines, one evidence file."""
    kw.setdefault("narrative", "本期完成助餐服务 3200 人次，探访 150 户。")
    kw.setdefault("actuals", [str(100 + i) for i in range(n_actuals)])
    kw.setdefault("spending", [ds.SpendingData("personnel", "12000.00", "社工工资"),
                               ds.SpendingData("activities", "3500.50", "活动物资")])
    kw.setdefault("evidence_file", upload())
    kw.setdefault("evidence_caption", "三月签到表")
    return ds.ReportData(**kw)


def first_milestone(aw):
    return aw.contract.milestones[0]


def report_in(db, aw, state: ReportState, milestone=None):
    """The report of ``milestone`` (default: the contract's first) brought to ``state``
    through the services; committed."""
    milestone = milestone or first_milestone(aw)
    report = ds.save_report(aw.org_user, milestone, full_data(len(ds.blank_actuals(aw.contract))))
    db.session.commit()
    if state == ReportState.DRAFT:
        return report
    ds.submit_report(aw.org_user, report)
    db.session.commit()
    if state == ReportState.APPROVED:
        ds.approve_report(aw.officer, report, "")
    elif state == ReportState.REVISION_REQUESTED:
        ds.request_revision(aw.officer, report, "请补充服务照片。")
    db.session.commit()
    return report


@pytest.fixture()
def en(app):
    """A message as an English reader reads it."""
    from flask_babel import force_locale

    def read(message) -> str:
        with app.test_request_context(), force_locale("en"):
            return str(message)

    return read
