"""Payment test helpers: a contract in force (the shared factory), milestone reports and
acceptance rows created directly in the states a test needs (their engineers build the
flows in parallel), and the people of the chain."""

from __future__ import annotations

from types import SimpleNamespace

from procure import signals
from procure.acceptance.models import Acceptance, AcceptanceState
from procure.delivery.models import MilestoneReport, ReportState
from procure.roles import Role
from procure.timeutil import utcnow


def report(db, contract, milestone, officer, state=ReportState.APPROVED) -> MilestoneReport:
    done = state == ReportState.APPROVED
    r = MilestoneReport(milestone_id=milestone.id, contract_id=contract.id, organization_id=contract.organization_id,
                        state=state, created_by_id=officer.id, reviewed_by_id=officer.id if done else None,
                        reviewed_at=utcnow() if done else None)
    db.session.add(r)
    db.session.flush()
    return r


def acceptance(db, contract, officer, state=AcceptanceState.PASSED, decided_at=None) -> Acceptance:
    a = Acceptance(contract_id=contract.id, organization_id=contract.organization_id, state=state,
                   created_by_id=officer.id, decided_by_id=officer.id,
                   decided_at=decided_at or (utcnow() if state == AcceptanceState.PASSED else None))
    db.session.add(a)
    db.session.flush()
    return a


def world(make, db, *, price="60000.00", shares=("30", "40", "30"), approved=(0,), passed=False, send=True,
          allocated=None):
    """A contract in force with its people: officer (the report's reviewer), officer2 (same
    department), fin1..fin3 (finance), org_user. Reports of the milestones ``approved``
    are approved (and the signal sent when ``send``, raising their payments); acceptance
    passed when ``passed``."""
    ns = make.active_contract(price=price, shares=shares, allocated=allocated or price)
    c = ns.contract
    ns.officer2 = make.user(Role.OFFICER, department=ns.officer.department)
    ns.fin1, ns.fin2, ns.fin3 = (make.user(Role.FINANCE) for _ in range(3))
    ns.reports = []
    for i in approved:
        r = report(db, c, c.milestones[i], ns.officer)
        ns.reports.append(r)
        if send:
            signals.milestone_report_approved.send(r, actor=ns.officer)
    if passed:
        ns.acceptance = acceptance(db, c, ns.officer)
        if send:
            signals.acceptance_passed.send(ns.acceptance, actor=ns.officer)
    db.session.commit()
    return ns


def ids(ns) -> SimpleNamespace:
    return SimpleNamespace(contract=ns.contract.id, officer=ns.officer.id, officer2=ns.officer2.id, fin1=ns.fin1.id,
                           fin2=ns.fin2.id, fin3=ns.fin3.id, org_user=ns.org_user.id)
