"""The project page and the dashboards with delivery data issue the same number of SQL
statements whatever the data size: more contracts on the project (each with its
milestones, reports, spending, payments and acceptance), more projects in delivery, more
of the organization's own milestones, reports and payments waiting for each role."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from procure.acceptance.models import Acceptance, AcceptanceState, Grade
from procure.contracts.models import Installment, Milestone, Release
from procure.delivery.models import ReportState
from procure.payments.models import Payment, PaymentState, Waiting
from procure.roles import Role
from tests.querycount import page_statements

from ..conftest import login
from .spending_data import report

STATES = (ReportState.APPROVED, ReportState.SUBMITTED, ReportState.REVISION_REQUESTED, ReportState.DRAFT)


def _payment(db, contract, installment, state: PaymentState, user) -> None:
    done = {PaymentState.PAID: dict(voucher_number=f"V-{installment.id}", paid_on=date(2026, 5, 1),
                                    paid_by_id=user.id, waiting_for=None, steps_done=2),
            PaymentState.APPROVED: dict(waiting_for=Waiting.RECORD, steps_done=2),
            PaymentState.REQUESTED: dict(waiting_for=Waiting.FINANCE, steps_done=1)}[state]
    db.session.add(Payment(contract_id=contract.id, installment_id=installment.id,
                           organization_id=contract.organization_id, department_id=contract.department_id,
                           amount=installment.amount, state=state, steps=["officer", "finance"],
                           requested_by_id=user.id, **done))


def _deliver(db, contract, user, *, lines: int, milestones: int = 0) -> None:
    """Delivery on ``contract``: ``milestones`` more milestones (with installments), a
    report on each in turn through the states, ``lines`` spending lines each, a payment of
    each approved one, and a passed acceptance."""
    start = len(contract.milestones)
    for k in range(milestones):
        m = Milestone(contract_id=contract.id, position=start + k, title=f"节点{start + k}",
                      due_on=date(2026, 4, 1) + timedelta(days=10 * k), deliverables="记录")
        db.session.add(m)
        db.session.flush()
        db.session.add(Installment(contract_id=contract.id, position=100 + start + k, share=Decimal("1"),
                                   amount=Decimal("10.00"), releases_on=Release.MILESTONE, milestone_id=m.id))
    db.session.flush()
    db.session.expire(contract)
    installments = {i.milestone_id: i for i in contract.installments if i.milestone_id}
    for i, m in enumerate(contract.milestones):
        state = STATES[i % len(STATES)]
        report(db, contract, m, state, [("personnel", "10.00"), ("admin", "1.00")] * lines, user)
        if state == ReportState.APPROVED and m.id in installments:
            _payment(db, contract, installments[m.id], (PaymentState.PAID, PaymentState.APPROVED,
                                                        PaymentState.REQUESTED)[i % 3], user)
    db.session.add(Acceptance(contract_id=contract.id, organization_id=contract.organization_id,
                              state=AcceptanceState.PASSED, score=Decimal("85.00"), grade=Grade.GOOD,
                              created_by_id=user.id))
    db.session.flush()


@pytest.mark.parametrize("role", ["officer", "finance", "admin"])
def test_project_page_does_not_grow_with_delivery(app, make, db, client, role):
    aw = make.active_contract()
    _deliver(db, aw.contract, aw.org_user, lines=1)
    users = {"officer": aw.officer, "finance": make.finance(), "admin": make.admin()}
    make.commit()
    url = f"/projects/{aw.project.id}"
    login(client, users[role].username)
    client.get(url)
    small = page_statements(app, client, url)
    # two more contracts on the same project, each with more milestones, reports,
    # spending, payments and its acceptance; and other projects in delivery
    for _i in range(2):
        c = make.contract(aw.project, officer=aw.officer)
        _deliver(db, c, aw.org_user, lines=5, milestones=6)
    _deliver(db, make.active_contract(aw.officer).contract, aw.org_user, lines=5, milestones=4)
    make.commit()
    large = page_statements(app, client, url)
    assert small >= 5
    assert large == small, f"{url} ({role}): {small} queries with little data, {large} with more"


def _latest_actions(users, org) -> None:
    """Each user's latest actions, of the same kind at every size: the dashboard names
    the objects of the latest events with one query per kind of object (bounded by the
    kinds, not the data)."""
    from procure import audit

    for user in users.values():
        for i in range(8):
            audit.record(user, "test.touch", "organizations", org.id, after={"n": i})


@pytest.mark.parametrize("role", ["org", "officer", "finance", "admin"])
def test_dashboard_does_not_grow_with_delivery(app, make, db, client, role):
    aw = make.active_contract()
    _deliver(db, aw.contract, aw.org_user, lines=1)
    users = {"org": aw.org_user, "officer": aw.officer, "finance": make.finance(), "admin": make.admin()}
    _latest_actions(users, aw.org)
    make.commit()
    login(client, users[role].username)
    client.get("/dashboard")
    small = page_statements(app, client, "/dashboard")
    # the organization's own contracts with more milestones (overdue, due, sent back),
    # reports waiting for review, payments waiting for each role; other organizations' too
    for _i in range(2):
        more = make.active_contract(aw.officer, org=aw.org)
        _deliver(db, more.contract, aw.org_user, lines=3, milestones=5)
    other = make.active_contract(aw.officer)
    _deliver(db, other.contract, other.org_user, lines=3, milestones=5)
    make.user(Role.ORG, organization=aw.org)
    _latest_actions(users, aw.org)
    make.commit()
    large = page_statements(app, client, "/dashboard")
    assert small >= 3
    assert large == small, f"/dashboard ({role}): {small} queries with little data, {large} with more"
