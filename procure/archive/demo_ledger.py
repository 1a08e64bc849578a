"""The demo's money through the year (called last by the delivery demo).

The demo runs every service in one sitting, so every movement of money would carry the
minute of the load. A bureau's ledger is dated through its years: the appropriations
when the budget is issued (early January), each allocation when finance approved the
project (before its call for bids was published), each commitment when the contract was
signed (after the award notice), each payment on the day it was paid (after its
milestone's due day, after its report was reviewed). This module moves those dates —
stored naive UTC, 10:00 Beijing time on the day — into their places, in lifecycle order
(appropriation < allocation < commitment < payment), never after now. Only dates of
money and of the acts the payments follow are moved (appropriations, adjustments,
projects' creation, allocations, contract funding and signing, milestone reports of
earlier years, payments and their approvals, the acceptance of the project about to
be closed); the audit trail keeps the time each act was recorded (the load).

The ledger is append-only for the application (its ORM refuses updates); the demo moves
its dates once, right after writing them, with plain UPDATE statements — before the
delivery demo closes its project, whose rows the archive guard then freezes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from ..acceptance.models import Acceptance, AcceptanceState
from ..budgets.models import Allocation, Appropriation, AppropriationAdjustment, ContractFunding, EntryKind, LedgerEntry
from ..calendar import local_today
from ..contracts.models import Contract, ContractVersion, Installment, Milestone, Signature
from ..delivery.models import MilestoneReport, ReportSubmission
from ..extensions import db
from ..payments.models import Payment, PaymentApproval, PaymentState
from ..projects.models import Project, ProjectState
from ..tenders.models import Tender
from ..timeutil import utcnow

#: Beijing is UTC+8: 10:00 there is 02:00 UTC.
MORNING_UTC = timedelta(hours=2)


def _at(day: date, minutes: int = 0) -> datetime:
    """10:00 Beijing time on ``day`` (plus ``minutes``), as stored: naive UTC, never after now."""
    return min(datetime.combine(day, datetime.min.time()) + MORNING_UTC + timedelta(minutes=minutes),
               utcnow() - timedelta(hours=1))


def _set(model, row_id: int, **values) -> None:
    db.session.execute(update(model).where(model.id == row_id).values(**values))


def _ledger(where, at: datetime) -> None:
    db.session.execute(update(LedgerEntry).where(*where).values(created_at=at))


def load(ctx, closing: Iterable[Contract] = ()) -> None:
    """Date the demo's money; ``closing`` are the contracts whose projects the delivery
    demo closes next (their acceptance is dated in the January after their year)."""
    db.session.flush()
    today = local_today()
    apprs = {}
    # Appropriations: issued in the first days of January, one a morning per source.
    for n, appr in enumerate(db.session.scalars(select(Appropriation).order_by(Appropriation.id))):
        at = _at(date(appr.fiscal_year, 1, 5), minutes=20 * (n % 6))
        _set(Appropriation, appr.id, created_at=at)
        apprs[appr.id] = at
    # Adjustments of the year: a mid-year top-up, an autumn reduction.
    for n, adj in enumerate(db.session.scalars(select(AppropriationAdjustment).order_by(AppropriationAdjustment.id))):
        appr = db.session.get(Appropriation, adj.appropriation_id)
        at = max(_at(date(appr.fiscal_year, 6 + 3 * (n % 2), 18)), apprs[appr.id] + timedelta(days=1))
        _set(AppropriationAdjustment, adj.id, created_at=at)
        _ledger([LedgerEntry.kind == EntryKind.ADJUST, LedgerEntry.appropriation_id == appr.id,
                 LedgerEntry.amount == adj.delta], at)
    # Allocations: finance approved the project before its first call was published;
    # projects without a call are spread over the spring.
    spread: dict[int, int] = {}
    approved_on: dict[int, datetime] = {}
    for alloc in db.session.scalars(select(Allocation).order_by(Allocation.id)):
        if alloc.project_id in approved_on:
            at = approved_on[alloc.project_id]
        else:
            project = db.session.get(Project, alloc.project_id)
            first_call = db.session.scalar(select(Tender.published_at).where(
                Tender.project_id == project.id, Tender.published_at.is_not(None)).order_by(Tender.published_at))
            earliest = apprs[alloc.appropriation_id] + timedelta(days=1)
            if first_call is not None:
                at = max(earliest, min(first_call - timedelta(days=12), first_call - timedelta(hours=20)))
            else:
                k = spread[project.fiscal_year] = spread.get(project.fiscal_year, -1) + 1
                at = max(earliest, _at(date(project.fiscal_year, 2, 20) + timedelta(days=17 * k)))
            approved_on[alloc.project_id] = at
            _set(Project, project.id, created_at=min(project.created_at, at - timedelta(days=21)))
        _set(Allocation, alloc.id, created_at=at)
        _ledger([LedgerEntry.kind == EntryKind.ALLOCATE, LedgerEntry.allocation_id == alloc.id], at)
        if db.session.get(Project, alloc.project_id).state == ProjectState.CANCELLED:
            _ledger([LedgerEntry.kind == EntryKind.RELEASE, LedgerEntry.allocation_id == alloc.id],
                    at + timedelta(days=30))
    # Commitments: the contract signed about a fortnight after its award notice.
    for contract in db.session.scalars(select(Contract).where(Contract.activated_at.is_not(None))
                                       .order_by(Contract.id)):
        at = max(min(contract.awarded_at + timedelta(days=12), contract.activated_at),
                 approved_on.get(contract.project_id, contract.awarded_at) + timedelta(days=1))
        _set(Contract, contract.id, activated_at=at,
             published_at=at + timedelta(hours=1) if contract.published_at else None)
        for version in db.session.scalars(select(ContractVersion).where(ContractVersion.contract_id == contract.id,
                                                                        ContractVersion.signed_at.is_not(None))):
            _set(ContractVersion, version.id, signed_at=at)
            db.session.execute(update(Signature).where(Signature.version_id == version.id).values(signed_at=at))
        for funding in db.session.scalars(select(ContractFunding).where(ContractFunding.contract_id == contract.id)):
            _set(ContractFunding, funding.id, created_at=at)
        _ledger([LedgerEntry.kind == EntryKind.COMMIT, LedgerEntry.contract_id == contract.id], at)
        _earlier_reports(contract, today)
    for n, contract in enumerate(closing):
        _accepted_in_january(contract, n)
    _payments(today)
    db.session.flush()
    db.session.expire_all()


def _earlier_reports(contract: Contract, today: date) -> None:
    """The reviewed milestone reports of an earlier year's contract: submitted a few days
    before their milestone's due day, reviewed a few days after."""
    if contract.project.fiscal_year >= today.year:
        return
    for report, due in db.session.execute(select(MilestoneReport, Milestone.due_on).join(
            Milestone, Milestone.id == MilestoneReport.milestone_id).where(MilestoneReport.contract_id == contract.id)):
        submitted, reviewed = _at(due - timedelta(days=3)), _at(due + timedelta(days=5))
        _set(MilestoneReport, report.id, submitted_at=submitted,
             reviewed_at=reviewed if report.reviewed_at else None)
        db.session.execute(update(ReportSubmission).where(ReportSubmission.report_id == report.id).values(
            submitted_at=submitted))
        db.session.execute(update(ReportSubmission).where(ReportSubmission.report_id == report.id,
                                                          ReportSubmission.decided_at.is_not(None)).values(
            decided_at=reviewed))


def _accepted_in_january(contract: Contract, n: int = 0) -> None:
    """A project the demo closes: its acceptance decided in the January after its year
    (the ``n``-th of them a few days after the one before)."""
    year = contract.project.fiscal_year + 1
    submitted, decided = date(year, 1, 6) + timedelta(days=2 * n), date(year, 1, 12) + timedelta(days=2 * n)
    for acc in db.session.scalars(select(Acceptance).where(Acceptance.contract_id == contract.id,
                                                           Acceptance.state == AcceptanceState.PASSED)):
        _set(Acceptance, acc.id, submitted_at=_at(submitted), decided_at=_at(decided),
             published_at=_at(decided, 60) if acc.published_at else None)


def _payments(today: date) -> None:
    """Each paid payment: raised after its milestone's report was reviewed (or its
    acceptance decided), approved within the week, paid about three weeks after the
    milestone's due day."""
    for payment in db.session.scalars(select(Payment).where(Payment.state == PaymentState.PAID)
                                      .order_by(Payment.id)):
        installment = db.session.get(Installment, payment.installment_id)
        if installment.milestone_id is not None:
            start = db.session.get(Milestone, installment.milestone_id).due_on + timedelta(days=6)
        else:
            decided = db.session.scalar(select(Acceptance.decided_at).where(
                Acceptance.contract_id == payment.contract_id, Acceptance.decided_at.is_not(None))
                .order_by(Acceptance.decided_at.desc()))
            start = (decided + timedelta(hours=8)).date() + timedelta(days=1) if decided else today
        paid_on = start + timedelta(days=14)
        if paid_on >= today:
            continue  # this year's recent payments keep the day they were recorded
        _set(Payment, payment.id, requested_at=_at(start), approved_at=_at(start + timedelta(days=7)),
             paid_at=_at(paid_on), paid_on=paid_on)
        for n, approval in enumerate(db.session.scalars(select(PaymentApproval).where(
                PaymentApproval.payment_id == payment.id).order_by(PaymentApproval.position))):
            _set(PaymentApproval, approval.id, at=_at(start + timedelta(days=2 + 2 * n)))
        _ledger([LedgerEntry.kind == EntryKind.PAY, LedgerEntry.payment_id == payment.id], _at(paid_on))
