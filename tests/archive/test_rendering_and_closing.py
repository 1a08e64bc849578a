"""The documents the worker renders for a project (the acceptance certificate, the payment
notices) and closing it, in the real order of events: the decision and the last payment
queue their renderings; the officer closes right after, before the worker has run.

Closing waits while a rendering is queued or running (a clear refusal, nothing written),
so the certificate and every notice land before the project closes and are in the
archive. Once closed, the project refuses a document rendered for it
(``notice_rendered`` / ``certificate_rendered`` call ``ensure_open``): the worker's job
ends "failed" with the closed project's message, nothing stored, the worker unharmed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from procure import dispatch
from procure.acceptance import services as acs
from procure.acceptance.models import Acceptance, AcceptanceState
from procure.archive import services as arch
from procure.archive.models import ArchiveRecord
from procure.audit import AuditEvent
from procure.delivery import services as ds
from procure.documents.models import Document
from procure.errors import InvalidTransition, RecordClosed
from procure.jobs.models import Job, JobState
from procure.jobs.services import create_job
from procure.payments import services as ps
from procure.payments.models import Payment, PaymentState
from procure.projects.models import Project, ProjectState
from procure.roles import Role
from procure.timeutil import to_local, utcnow

from ..acceptance.conftest import OPINION, REPORT, scores_for
from ..delivery.conftest import full_data

RENDERING = {acs.CERT_TASK, ps.NOTICE_TASK}
PDF = b"%PDF-1.4\n%late\n" + b"1 0 obj\n<<>>\nendobj\n" * 4


@pytest.fixture()
def slow_worker(monkeypatch):
    """The renderings committed are held back (the worker has not picked them up yet);
    ``run()`` sends them as the broker would, through the real tasks."""
    held: list[tuple[str, tuple]] = []
    send = dispatch.send

    def hold(name, *args):
        if name in RENDERING:
            held.append((name, args))
            return True
        return send(name, *args)

    monkeypatch.setattr(dispatch, "send", hold)

    def run(name):
        for task in [t for t in held if t[0] == name]:
            held.remove(task)
            send(task[0], *task[1])

    return type("Worker", (), {"held": held, "run": staticmethod(run)})


def _pay(db, aw, finance, installment, voucher):
    payment = db.session.scalar(select(Payment).where(Payment.installment_id == installment.id,
                                                      Payment.state != PaymentState.REJECTED))
    ps.confirm_payment(aw.officer, payment)
    db.session.commit()
    ps.approve_payment(finance, payment)
    db.session.commit()
    ps.record_paid(finance, payment, voucher, to_local(utcnow()).date())
    db.session.commit()
    return payment


def _counts(db) -> tuple:
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(Document)),
            db.session.scalar(select(func.count()).select_from(ArchiveRecord)),
            db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "project.close")))


def test_closing_waits_for_the_documents_then_a_late_one_is_refused(make, db, slow_worker):
    aw = make.active_contract(shares=("60", "40"))
    finance = make.user(Role.FINANCE)
    db.session.commit()
    contract = aw.contract
    n = len(ds.blank_actuals(contract))
    report = ds.save_report(aw.org_user, contract.milestones[0], full_data(n))
    ds.submit_report(aw.org_user, report)
    ds.approve_report(aw.officer, report, "")
    db.session.commit()
    first = _pay(db, aw, finance, contract.installments[0], "PZ-1")
    slow_worker.run(ps.NOTICE_TASK)
    assert first.notice_document_id is not None

    acc = acs.open_final_report(aw.org_user, contract)
    acs.save_final_report(aw.org_user, acc, acs.ReportData(REPORT, ["310", "1250.5"], OPINION), submit=True)
    acs.organize_evaluation(aw.officer, acc, third_party_name="重庆某绩效评价事务所")
    acs.enter_third_party_scores(aw.officer, acc, scores_for(85))
    acs.decide(aw.officer, acc)
    db.session.commit()
    assert acc.state == AcceptanceState.PASSED
    last = _pay(db, aw, finance, contract.installments[-1], "PZ-2")
    assert sorted(t[0] for t in slow_worker.held) == sorted(RENDERING)  # both still to render

    # the officer closes right away: refused while the certificate and the notice render
    project = db.session.get(Project, aw.project.id)
    before = _counts(db)
    with pytest.raises(InvalidTransition) as exc:
        arch.close_project(aw.officer, project, "验收合格，款项付清。")
    assert "正在生成" in str(exc.value.message)
    db.session.rollback()
    assert _counts(db) == before and db.session.get(Project, aw.project.id).state == ProjectState.ACCEPTANCE

    slow_worker.run(acs.CERT_TASK)  # the certificate lands; the notice still renders
    with pytest.raises(InvalidTransition, match="正在生成"):
        arch.close_project(aw.officer, db.session.get(Project, aw.project.id))
    db.session.rollback()
    slow_worker.run(ps.NOTICE_TASK)
    db.session.expire_all()
    assert db.session.get(Acceptance, acc.id).certificate_document_id is not None
    assert db.session.get(Payment, last.id).notice_document_id is not None

    arch.close_project(aw.officer, db.session.get(Project, aw.project.id), "验收合格，款项付清。")
    db.session.commit()
    roles = [d.role for d in arch.project_documents(db.session.get(Project, aw.project.id))]
    assert roles.count("payment_notice") == 2 and roles.count("certificate") == 1

    # after closing: a rendering for the project (a certificate asked again) is refused —
    # the job fails with the closed project's message, nothing stored, the worker goes on
    acc = db.session.get(Acceptance, acc.id)
    kept = acc.certificate_document_id
    job = create_job(aw.officer, acs.CERT_JOB, {"acceptance_id": acc.id, "round": acc.round})
    db.session.commit()
    documents = _counts(db)[0]
    slow_worker.run(acs.CERT_TASK)
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == JobState.FAILED and "已结项归档" in job.message
    assert _counts(db)[0] == documents and db.session.get(Acceptance, acc.id).certificate_document_id == kept
    # and the services refuse it themselves, before the archive's flush guard
    for fn, obj in ((ps.notice_rendered, db.session.get(Payment, last.id)), (acs.certificate_rendered, acc)):
        with pytest.raises(RecordClosed) as refused:
            fn(finance, obj, PDF)
        message = str(refused.value.message)
        assert "已结项归档" in message and aw.project.title in message
        db.session.rollback()
        assert _counts(db)[0] == documents
