"""The demo's budgets: several years and sources, projects in every state of this issue,
a generated report ready to download; totals reconcile with the ledger."""

from __future__ import annotations

import sqlalchemy as sa

from procure.budgets.models import Appropriation, AppropriationAdjustment, FundingSource
from procure.budgets.services import reconcile
from procure.demo import DEMO_PASSWORD
from procure.documents.models import Document
from procure.jobs.models import Job, JobState
from procure.projects.models import Project, ProjectState

from ..conftest import login


def test_demo_budgets(app, db, demo_loaded):
    result = demo_loaded  # `flask demo` as run once for the session (its report rendered then)
    assert result.exit_code == 0, result.output
    years = set(db.session.scalars(sa.select(Appropriation.fiscal_year)))
    assert len(years) == 3
    codes = set(db.session.scalars(sa.select(FundingSource.code).join(Appropriation)))
    assert codes == {"general", "lottery", "central", "matching"}
    states = set(db.session.scalars(sa.select(Project.state)))
    assert {ProjectState.DRAFT, ProjectState.SUBMITTED, ProjectState.APPROVED, ProjectState.CANCELLED} <= states
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Project).where(
        Project.state == ProjectState.DRAFT, Project.state_reason.is_not(None))) == 1  # returned by finance
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AppropriationAdjustment)) == 2
    assert reconcile() == []
    # committed money comes from real signed contracts only, paid money from real payments
    from procure.contracts.models import Contract, ContractState
    from procure.payments.models import Payment, PaymentState

    committed = db.session.scalar(sa.select(sa.func.sum(Appropriation.committed)))
    signed = db.session.scalars(sa.select(Contract).where(
        Contract.state.in_((ContractState.ACTIVE, ContractState.COMPLETED)))).all()
    # this year's two in force, and every earlier year's project that went through (none left approved)
    earlier = db.session.scalars(sa.select(Project).where(Project.fiscal_year < max(years))).all()
    assert not [p.title for p in earlier if p.state == ProjectState.APPROVED]
    through = [p for p in earlier if p.state != ProjectState.CANCELLED]
    assert len(signed) == 2 + len(through) and committed == sum(c.amount for c in signed)
    assert all(c.published_at is not None for c in signed)
    paid = db.session.scalars(sa.select(Payment.amount).where(Payment.state == PaymentState.PAID)).all()
    assert paid and db.session.scalar(sa.select(sa.func.sum(Appropriation.paid))) == sum(paid)
    portal = app.test_client().get("/portal/contracts/").get_data(as_text=True)
    assert all(c.number in portal for c in signed)
    from procure.reports.services import EXECUTION_PDF

    job = db.session.scalars(sa.select(Job).where(Job.kind == EXECUTION_PDF)).one()
    assert job.state == JobState.DONE
    doc = db.session.get(Document, job.result_document_id)
    client = app.test_client()
    login(client, "finance", DEMO_PASSWORD)
    resp = client.get(f"/documents/{doc.id}")
    assert resp.status_code == 200 and resp.data[:4] == b"%PDF"
    page = client.get("/reports/budget-execution").get_data(as_text=True)
    assert f'href="/documents/{doc.id}"' in page  # the demo's report is ready to download
    for path in ("/budgets/", "/reports/budget-execution", "/reports/program-summary", "/projects/"):
        assert client.get(path).status_code == 200, path
    assert app.test_cli_runner().invoke(args=["budgets", "reconcile"]).exit_code == 0
