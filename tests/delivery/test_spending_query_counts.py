"""The spending and archive pages issue the same number of SQL statements whatever the
data size: one aggregate for a project's spending, two queries for the list (the page and
its totals), the archive list and a closed project's documents likewise."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from procure.acceptance.models import Acceptance, AcceptanceState
from procure.archive import services as arch
from procure.budgets import ledger
from procure.contracts.models import Contract, ContractState
from procure.delivery.models import MilestoneReport, ReportEvidence, ReportState, SpendingLine
from procure.documents.services import store_document
from procure.payments.models import PaymentState
from procure.projects.models import Project, ProjectState
from tests.querycount import page_statements

from ..conftest import login
from ..factories import Factory
from .spending_data import budget_lines, report

BREAKDOWN = (("personnel", "36000.00"), ("activities", "15000.00"), ("materials", "6000.00"), ("admin", "3000.00"))


def _project_with_spending(make, db, officer, lines: int):
    aw = make.active_contract(officer)
    budget_lines(db, aw.contract, BREAKDOWN)
    r1 = report(db, aw.contract, aw.contract.milestones[0], ReportState.APPROVED,
                [("personnel", "10.00"), ("admin", "5.00")] * lines, aw.org_user)
    report(db, aw.contract, aw.contract.milestones[1], ReportState.SUBMITTED, [("materials", "1.00")] * lines,
           aw.org_user)
    for i in range(lines):
        doc = store_document(aw.org_user, f"evidence {i}".encode(), f"证明{i}.png", "image/png", "evidence")
        db.session.add(ReportEvidence(report_id=r1.id, document_id=doc.id, caption="", added_by_id=aw.org_user.id))
    db.session.flush()
    return aw


def _close(db, aw):
    locked = ledger.lock_for_money(project_id=aw.project.id, contract_id=aw.contract.id)
    payment = Factory(db).payment(aw.contract, sum(f.committed - f.paid for f in locked.fundings.values()),
                                  state=PaymentState.PAID)
    for (cid, alloc_id), f in sorted(locked.fundings.items()):
        ledger.pay(locked, alloc_id, cid, f.committed - f.paid, payment_id=payment.id, actor=aw.officer)
    db.session.execute(update(Contract).where(Contract.id == aw.contract.id).values(state=ContractState.COMPLETED))
    db.session.execute(update(Project).where(Project.id == aw.project.id).values(state=ProjectState.ACCEPTANCE))
    db.session.add(Acceptance(contract_id=aw.contract.id, organization_id=aw.org.id, state=AcceptanceState.PASSED,
                              created_by_id=aw.officer.id))
    # the submitted report is decided before closing
    db.session.execute(update(MilestoneReport).where(MilestoneReport.contract_id == aw.contract.id)
                       .values(state=ReportState.APPROVED))
    db.session.flush()
    db.session.expire_all()
    arch.close_project(aw.officer, db.session.get(Project, aw.project.id))


PAGES = ["/spending/?year=2026", "/spending/?year=2026&q=%E6%B5%8B%E8%AF%95&page=1",
         "/reports/project-spending/{project}", "/archive/", "/archive/?year=2026&q=%E6%B5%8B%E8%AF%95",
         "/archive/{project}"]


@pytest.mark.parametrize("path", PAGES)
def test_query_count_does_not_grow(app, make, db, client, path):
    first = _project_with_spending(make, db, None, 1)
    officer = first.officer
    _close(db, first)
    make.commit()
    url = path.format(project=first.project.id)
    login(client, officer.username)
    client.get(url)
    small = page_statements(app, client, url)
    for _i in range(3):  # more projects, more spending lines, more evidence, more closed projects
        _close(db, _project_with_spending(make, db, officer, 6))
    _project_with_spending(make, db, officer, 6)
    make.commit()
    large = page_statements(app, client, url)
    assert small >= 2
    assert large == small, f"{url}: {small} queries with little data, {large} with more"


def test_project_page_does_not_grow_with_its_own_lines(app, make, db, client):
    aw = _project_with_spending(make, db, None, 1)
    make.commit()
    url = f"/reports/project-spending/{aw.project.id}"
    login(client, aw.officer.username)
    client.get(url)
    small = page_statements(app, client, url)
    rep = db.session.query(MilestoneReport).filter_by(contract_id=aw.contract.id, state=ReportState.APPROVED).one()
    for i in range(40):
        db.session.add(SpendingLine(report_id=rep.id, contract_id=aw.contract.id, position=100 + i,
                                    category=("personnel", "admin", "other", "materials")[i % 4], amount=1))
    make.commit()
    assert page_statements(app, client, url) == small
