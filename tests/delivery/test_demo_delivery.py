"""The demo's delivery (procure/delivery/demo.py), loaded once: every stage of delivery
exists and each role opens on its work; the paid money is real payments and reconciles."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from procure.acceptance.models import Acceptance, AcceptanceState, Grade
from procure.archive.models import ArchiveRecord
from procure.auth.models import User
from procure.budgets.models import Appropriation, ContractFunding
from procure.budgets.services import reconcile
from procure.calendar import local_today
from procure.contracts.models import Contract, Installment, Milestone, Release
from procure.delivery import services as ds
from procure.delivery import spending
from procure.delivery.models import MilestoneReport, ReportState, SpendingLine
from procure.demo import DEMO_PASSWORD
from procure.payments.models import Payment, PaymentState, Waiting
from procure.projects.models import Project, ProjectState
from procure.roles import Role

from ..conftest import IsolatedClient, login, truncate_all


@pytest.fixture(scope="module")
def demo(app):
    """The demo, loaded once for the tests of this module (they only read)."""
    from procure.extensions import db

    with app.app_context():
        db.session.remove()
        truncate_all(db.engine)
        result = app.test_cli_runner().invoke(args=["demo"])
        assert result.exit_code == 0, result.output
        yield db
        db.session.remove()
        truncate_all(db.engine)


def _client(app, username):
    from procure.extensions import limiter

    limiter.reset()
    app.test_client_class = IsolatedClient
    client = app.test_client()
    assert login(client, username, DEMO_PASSWORD).status_code == 302
    return client


def _reports(db, state):
    return db.session.scalars(sa.select(MilestoneReport).where(MilestoneReport.state == state)).all()


def test_every_stage_of_delivery(app, demo):
    db = demo
    revised = _reports(db, ReportState.REVISION_REQUESTED)
    assert revised and all(r.review_comment for r in revised)
    assert _reports(db, ReportState.SUBMITTED)
    paid = db.session.scalars(sa.select(Payment).where(Payment.state == PaymentState.PAID)).all()
    assert paid and all(p.voucher_number and p.paid_on for p in paid)
    # a payment waits for its second finance approval, above the policy amount
    second = db.session.scalars(sa.select(Payment).where(Payment.state == PaymentState.REQUESTED,
                                                         Payment.waiting_for == Waiting.FINANCE)).all()
    assert any(p.steps.count("finance") == 2 and p.steps_done == 2 for p in second)
    finance2 = db.session.scalar(sa.select(User).where(User.username == "finance2"))
    finance = db.session.scalar(sa.select(User).where(User.username == "finance"))
    assert finance2.role == Role.FINANCE and finance2.department_id == finance.department_id
    # an overdue milestone without a report, and one due ahead
    overdue = db.session.scalars(sa.select(Milestone).where(ds.overdue_condition())).all()
    assert any(ds.report_of(m) is None for m in overdue)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Milestone).where(
        Milestone.due_on >= local_today(), Milestone.contract.has(Contract.state == "active")))
    # acceptances: 良 and 优 passed, one with the final installment raised, a failure in rectification
    passed = db.session.scalars(sa.select(Acceptance).where(Acceptance.state == AcceptanceState.PASSED)).all()
    assert passed and {a.grade for a in passed} == {Grade.GOOD, Grade.EXCELLENT}
    assert any(a.evaluated_by == "committee" for a in passed) and any(a.evaluated_by == "third_party" for a in passed)
    finals = db.session.scalars(sa.select(Payment).join(Installment).where(
        Installment.releases_on == Release.ACCEPTANCE)).all()
    assert {p.state for p in finals} >= {PaymentState.PAID, PaymentState.REQUESTED}
    failed = db.session.scalars(sa.select(Acceptance).where(Acceptance.state == AcceptanceState.FAILED)).one()
    assert failed.rectify_by > local_today() and failed.grade == Grade.POOR
    # the earlier years' projects closed in the archive (every one delivered), none of this year's
    records = db.session.scalars(sa.select(ArchiveRecord)).all()
    projects = [db.session.get(Project, r.project_id) for r in records]
    assert projects and all(p.state == ProjectState.CLOSED and p.fiscal_year < local_today().year for p in projects)
    assert len(records) == db.session.scalar(sa.select(sa.func.count()).select_from(Project).where(
        Project.state == ProjectState.CLOSED))
    # spending lines, one contract's admin costs above the cap
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SpendingLine)) > 0
    flagged = [c for c in spending.spending_for_contracts(list(db.session.scalars(sa.select(Contract))))
               if c.admin_over_cap]
    assert len(flagged) == 1
    # the paid money of the ledger is the payments' paid
    ledger_paid = db.session.scalar(sa.select(sa.func.sum(ContractFunding.paid)))
    assert ledger_paid == sum(p.amount for p in paid)
    assert db.session.scalar(sa.select(sa.func.sum(Appropriation.paid))) == ledger_paid
    assert reconcile() == []


def test_each_role_opens_on_its_work(app, demo):
    db = demo
    waiting = _reports(db, ReportState.SUBMITTED)[0]
    revised = _reports(db, ReportState.REVISION_REQUESTED)[0]
    second = db.session.scalars(sa.select(Payment).where(Payment.state == PaymentState.REQUESTED,
                                                         Payment.waiting_for == Waiting.FINANCE)).first()
    closed = db.session.scalars(sa.select(ArchiveRecord).order_by(ArchiveRecord.id)).first()
    rehab = second.contract
    # the organization: what is due next, the report to revise
    client = _client(app, "tongxin")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "第二季度助浴服务" in page, "the org's dashboard shows the milestone due next"
    for path in (f"/reports/{revised.id}", f"/contracts/{revised.contract_id}/milestones",
                 f"/contracts/{revised.contract_id}/payments", "/payments/"):
        assert client.get(path).status_code == 200, path
    # the officer: the report to review
    client = _client(app, "officer")
    page = client.get("/dashboard").get_data(as_text=True)
    assert f"/reports/{waiting.id}" in page, "the officer's dashboard lists the report to review"
    for path in (f"/reports/{waiting.id}", "/payments/", "/archive/", f"/archive/{closed.project_id}",
                 f"/projects/{rehab.project_id}", f"/reports/project-spending/{rehab.project_id}",
                 f"/spending/{rehab.project_id}"):
        assert client.get(path).status_code in (200, 404) if path.startswith("/spending/") else \
            client.get(path).status_code == 200, path
    # finance: the payment to approve (its second approval)
    client = _client(app, "finance")
    page = client.get("/payments/").get_data(as_text=True)
    assert f"/payments/{second.id}" in page
    assert client.get(f"/payments/{second.id}").status_code == 200
    report = client.get(f"/reports/project-spending/{rehab.project_id}").get_data(as_text=True)
    assert "42,750.00" in report or "42750" in report, "the admin-cost cap shows on the spending report"
