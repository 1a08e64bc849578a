"""Delivery rows made directly (the report, payment and acceptance services are built in
parallel): budget lines, milestone reports in a given state with spending lines."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from procure.delivery.models import BudgetLine, MilestoneReport, ReportState, SpendingLine


def budget_lines(db, contract, lines) -> None:
    """The approved breakdown of ``contract`` (kept if a receiver already copied it)."""
    have = db.session.scalars(select(BudgetLine).where(BudgetLine.contract_id == contract.id)).all()
    if have:
        for bl in have:
            db.session.delete(bl)
        db.session.flush()
    for cat, amount in lines:
        db.session.add(BudgetLine(contract_id=contract.id, category=cat, amount=Decimal(amount)))
    db.session.flush()


def report(db, contract, milestone, state: ReportState, spending, user) -> MilestoneReport:
    r = MilestoneReport(milestone_id=milestone.id, contract_id=contract.id, organization_id=contract.organization_id,
                        state=state, narrative="按计划开展服务。", created_by_id=user.id,
                        submissions_count=0 if state == ReportState.DRAFT else 1)
    db.session.add(r)
    db.session.flush()
    for pos, (cat, amount) in enumerate(spending):
        db.session.add(SpendingLine(report_id=r.id, contract_id=contract.id, position=pos, category=cat,
                                    amount=Decimal(amount), description=""))
    db.session.flush()
    return r
