"""Money operations. Each checks permission, validates, locks the parent rows in one
fixed order (appropriation, then project, then allocation), appends ledger entries,
updates the running totals, audits and flushes; the caller commits once.

Hard stops (DOMAIN.md §5), checked here under the row locks and held again by CHECK
constraints: allocated ≤ appropriated, committed ≤ allocated, paid ≤ committed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..auth.models import Department
from ..errors import BudgetExceeded, NotFound, ValidationError
from ..extensions import db
from ..money import format_money
from ..permissions import define, require
from ..roles import Role
from .models import (
    SOURCES,
    ZERO,
    Allocation,
    Appropriation,
    AppropriationAdjustment,
    EntryKind,
    FundingSource,
    LedgerEntry,
)

define("budget.view", {Role.FINANCE, Role.ADMIN})
define("budget.manage", {Role.FINANCE})
define("report.view", {Role.FINANCE, Role.ADMIN})

#: Largest amount a Numeric(14, 2) column holds.
MAX_AMOUNT = Decimal("999999999999.99")
#: Largest value an INTEGER column (ids, counts) holds.
MAX_ID = 2**31 - 1
FIRST_FISCAL_YEAR = 2000
#: How many years ahead a budget may be entered.
YEARS_AHEAD = 5


# --- validation -------------------------------------------------------------------

def parse_amount(value, field: str = "amount", *, allow_negative: bool = False,
                 allow_zero: bool = False) -> Decimal:
    """A Decimal with at most two decimals (fen), positive unless told otherwise."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        amount = Decimal(str(value).strip().replace(",", "")) if value is not None else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationError(_l("Enter an amount in yuan, e.g. 12345.67."), field=field)
    if abs(amount) > MAX_AMOUNT:
        raise ValidationError(_l("The amount is too large."), field=field)
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(_l("Amounts have at most two decimals (fen)."), field=field)
    if amount < 0 and not allow_negative:
        raise ValidationError(_l("The amount cannot be negative."), field=field)
    if amount == 0 and not allow_zero:
        raise ValidationError(_l("The amount must not be zero."), field=field)
    return amount.quantize(Decimal("0.01"))


def check_fiscal_year(year, field: str = "fiscal_year") -> int:
    """A fiscal year between 2000 and five years from now."""
    last = date.today().year + YEARS_AHEAD
    try:
        year = int(year)
    except (TypeError, ValueError):
        year = None
    if year is None or not FIRST_FISCAL_YEAR <= year <= last:
        raise ValidationError(_l("The fiscal year must be between %(first)d and %(last)d.",
                                 first=FIRST_FISCAL_YEAR, last=last), field=field)
    return year


def parse_id(raw) -> int | None:
    """An id typed into a request as an int, or None when it is not a plain positive
    number or is too large for an INTEGER column (the database would refuse it with an
    error, a 500). ``isdecimal``, not ``isdigit``: int() refuses "²"."""
    raw = str(raw if raw is not None else "").strip()
    value = int(raw) if raw.isdecimal() and len(raw) <= 10 else None
    return value if value is not None and 0 < value <= MAX_ID else None


def _get_by_id(model, raw):
    """The row whose id was typed into a request, or None."""
    value = parse_id(raw)
    return db.session.get(model, value) if value is not None else None


def _flush_money() -> None:
    """Flush; a CHECK constraint that still refuses (the last line of defence) becomes
    a clear BudgetExceeded instead of a 500."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise BudgetExceeded(_l("The change would exceed the available funds; nothing was saved.")) from exc


# --- funding sources and appropriations ------------------------------------------

def ensure_funding_sources() -> list[FundingSource]:
    """Create the four funding sources of DOMAIN.md §3 if they are missing (idempotent)."""
    existing = {s.code: s for s in db.session.scalars(select(FundingSource))}
    for code, name, position in SOURCES:
        if code not in existing:
            existing[code] = FundingSource(code=code, name=name, position=position)
            db.session.add(existing[code])
    db.session.flush()
    return sorted(existing.values(), key=lambda s: s.position)


def funding_sources() -> list[FundingSource]:
    return list(db.session.scalars(select(FundingSource).order_by(FundingSource.position)))


def create_appropriation(actor, *, source_id, fiscal_year, department_id, amount,
                         reference: str | None = None) -> Appropriation:
    """Record an appropriation (预算指标). One per source, year and department: a change
    of amount afterwards is an adjustment."""
    require(actor, "budget.manage")
    source = _get_by_id(FundingSource, source_id)
    if source is None:
        raise ValidationError(_l("Choose a known funding source."), field="source_id")
    year = check_fiscal_year(fiscal_year)
    dep = _get_by_id(Department, department_id)
    if dep is None:
        raise ValidationError(_l("Choose a department."), field="department_id")
    amount = parse_amount(amount)
    dup = db.session.scalar(select(Appropriation.id).where(
        Appropriation.source_id == source.id, Appropriation.fiscal_year == year,
        Appropriation.department_id == dep.id))
    if dup:
        raise ValidationError(_l("This department already has an appropriation from this source for "
                                 "%(year)d; adjust it instead.", year=year), field="source_id")
    appr = Appropriation(source_id=source.id, fiscal_year=year, department_id=dep.id, amount=amount,
                         reference=(reference or "").strip() or None, created_by_id=actor.id)
    db.session.add(appr)
    db.session.flush()
    audit.record(actor, "appropriation.create", appr, after=appr.snapshot())
    return appr


def lock_appropriation(appropriation_id: int) -> Appropriation:
    """The appropriation, locked FOR UPDATE and read fresh."""
    appr = db.session.scalar(select(Appropriation).where(Appropriation.id == appropriation_id)
                             .with_for_update(of=Appropriation).execution_options(populate_existing=True))
    if appr is None:
        raise NotFound(_l("This appropriation does not exist."))
    return appr


def adjust_appropriation(actor, appropriation: Appropriation, delta, reason: str) -> AppropriationAdjustment:
    """Raise or lower the appropriated amount, as its own audited record with a reason.
    A decrease cannot go below what is already allocated."""
    require(actor, "budget.manage")
    delta = parse_amount(delta, "delta", allow_negative=True)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_l("Give the reason for the adjustment."), field="reason")
    appr = lock_appropriation(appropriation.id)
    new_amount = appr.amount + delta
    if new_amount < appr.allocated:
        raise BudgetExceeded(_l("The appropriation cannot go below what is already allocated "
                                "(%(allocated)s).", allocated=format_money(appr.allocated)), field="delta")
    if new_amount > MAX_AMOUNT:
        raise ValidationError(_l("The amount is too large."), field="delta")
    adj = AppropriationAdjustment(appropriation_id=appr.id, delta=delta, amount_before=appr.amount,
                                  amount_after=new_amount, reason=reason, actor_id=actor.id)
    db.session.add(adj)
    appr.amount = new_amount
    db.session.add(LedgerEntry(kind=EntryKind.ADJUST, amount=delta, appropriation_id=appr.id,
                               actor_id=actor.id, reason=reason))
    _flush_money()
    audit.record(actor, "appropriation.adjust", appr, before={"amount": adj.amount_before},
                 after={"amount": new_amount, "delta": delta, "reason": reason, "adjustment_id": adj.id})
    return adj


# --- the ledger -------------------------------------------------------------------

def _lock_allocation(appropriation_id: int, project_id: int) -> Allocation | None:
    return db.session.scalar(select(Allocation).where(Allocation.appropriation_id == appropriation_id,
                                                      Allocation.project_id == project_id)
                             .with_for_update(of=Allocation).execution_options(populate_existing=True))


def allocate(actor, appr: Appropriation, project, amount: Decimal, reason: str | None = None) -> Allocation:
    """Reserve ``amount`` of the (already locked) appropriation for ``project``.

    The caller holds the appropriation's lock (see ``lock_appropriation``); used by
    ``projects.services.approve_project``.
    """
    require(actor, "budget.manage")
    if amount > appr.remaining:
        raise BudgetExceeded(_l("Only %(remaining)s remain in this appropriation; %(amount)s cannot be "
                                "allocated.", remaining=format_money(appr.remaining),
                                amount=format_money(amount)), field="allocations")
    alloc = _lock_allocation(appr.id, project.id)
    if alloc is None:
        alloc = Allocation(appropriation_id=appr.id, project_id=project.id, allocated=ZERO,
                           committed=ZERO, paid=ZERO)
        db.session.add(alloc)
        db.session.flush()
    alloc.allocated += amount
    appr.allocated += amount
    db.session.add(LedgerEntry(kind=EntryKind.ALLOCATE, amount=amount, appropriation_id=appr.id,
                               project_id=project.id, allocation_id=alloc.id, actor_id=actor.id, reason=reason))
    _flush_money()
    return alloc


def release_project_funds(actor, project, reason: str | None = None) -> Decimal:
    """Release every uncommitted reservation of ``project``; returns the total released.
    Locks the appropriations (in id order) before the allocations."""
    total = ZERO
    appr_ids = sorted(db.session.scalars(select(Allocation.appropriation_id)
                                         .where(Allocation.project_id == project.id)))
    for appr_id in appr_ids:
        appr = lock_appropriation(appr_id)
        alloc = _lock_allocation(appr_id, project.id)
        free = alloc.allocated - alloc.committed
        if free <= 0:
            continue
        alloc.allocated -= free
        appr.allocated -= free
        total += free
        db.session.add(LedgerEntry(kind=EntryKind.RELEASE, amount=free, appropriation_id=appr.id,
                                   project_id=project.id, allocation_id=alloc.id, actor_id=actor.id,
                                   reason=reason))
    _flush_money()
    return total


def _lock_pair(allocation_id: int) -> tuple[Appropriation, Allocation]:
    appr_id = db.session.scalar(select(Allocation.appropriation_id).where(Allocation.id == allocation_id))
    if appr_id is None:
        raise NotFound(_l("This allocation does not exist."))
    appr = lock_appropriation(appr_id)
    alloc = db.session.scalar(select(Allocation).where(Allocation.id == allocation_id)
                              .with_for_update(of=Allocation).execution_options(populate_existing=True))
    return appr, alloc


def _move_funds(actor, allocation_id: int, amount, kind: EntryKind, source: str, target: str,
                refuse, action: str, reason: str | None, **link) -> LedgerEntry:
    """Move ``amount`` of an allocation from its ``source`` stage to ``target``
    (allocated → committed, committed → paid) on the allocation and its appropriation,
    under both row locks; ``refuse(available, amount)`` builds the error beyond that."""
    require(actor, "budget.manage")
    amount = parse_amount(amount)
    appr, alloc = _lock_pair(allocation_id)
    available = getattr(alloc, source) - getattr(alloc, target)
    if amount > available:
        raise refuse(available, amount)
    setattr(alloc, target, getattr(alloc, target) + amount)
    setattr(appr, target, getattr(appr, target) + amount)
    entry = LedgerEntry(kind=kind, amount=amount, appropriation_id=appr.id, project_id=alloc.project_id,
                        allocation_id=alloc.id, actor_id=actor.id, reason=reason, **link)
    db.session.add(entry)
    _flush_money()
    audit.record(actor, action, "allocations", alloc.id, after={"amount": amount, **link})
    return entry


def commit_funds(actor, allocation_id: int, amount, *, contract_id: int | None = None,
                 reason: str | None = None) -> LedgerEntry:
    """Commit part of an allocation (a contract signed). Refused beyond the allocation."""
    def refuse(free, amount):
        return BudgetExceeded(_l("Only %(free)s of the allocation is not yet committed; %(amount)s cannot be "
                                 "committed.", free=format_money(free), amount=format_money(amount)),
                              field="amount")

    return _move_funds(actor, allocation_id, amount, EntryKind.COMMIT, "allocated", "committed", refuse,
                       "ledger.commit", reason, contract_id=contract_id)


def pay(actor, allocation_id: int, amount, *, payment_id: int | None = None,
        reason: str | None = None) -> LedgerEntry:
    """Record a payment against committed money. Refused beyond the commitment."""
    def refuse(unpaid, amount):
        return BudgetExceeded(_l("Only %(unpaid)s of the commitment is unpaid; %(amount)s cannot be paid.",
                                 unpaid=format_money(unpaid), amount=format_money(amount)), field="amount")

    return _move_funds(actor, allocation_id, amount, EntryKind.PAY, "committed", "paid", refuse,
                       "ledger.pay", reason, payment_id=payment_id)


# --- reconciliation ---------------------------------------------------------------

def _sums(group_col):
    k = LedgerEntry.kind

    def s(*kinds):
        return func.coalesce(func.sum(LedgerEntry.amount).filter(k.in_(kinds)), 0)

    return select(group_col,
                  s(EntryKind.ALLOCATE) - s(EntryKind.RELEASE),
                  s(EntryKind.COMMIT), s(EntryKind.PAY), s(EntryKind.ADJUST)).group_by(group_col)


def reconcile() -> list[str]:
    """Compare every running total with the ledger's sums; the list of differences."""
    problems = []
    by_appr = {row[0]: row[1:] for row in db.session.execute(_sums(LedgerEntry.appropriation_id))}
    adjusted = dict(db.session.execute(
        select(AppropriationAdjustment.appropriation_id, func.sum(AppropriationAdjustment.delta))
        .group_by(AppropriationAdjustment.appropriation_id)).all())
    for appr in db.session.scalars(select(Appropriation).order_by(Appropriation.id)):
        appr_id = appr.id
        alloc, comm, paid, adj = by_appr.get(appr_id, (0, 0, 0, 0))
        if Decimal(adj) != Decimal(adjusted.get(appr_id, 0)):
            problems.append(f"appropriation {appr_id}: adjustments {adjusted.get(appr_id, 0)} "
                            f"but ledger adjust {adj}")
        for name, total, ledger in (("allocated", appr.allocated, alloc), ("committed", appr.committed, comm),
                                    ("paid", appr.paid, paid)):
            if Decimal(total) != Decimal(ledger):
                problems.append(f"appropriation {appr_id}: {name} {total} but ledger says {ledger}")
    by_alloc = {row[0]: row[1:] for row in db.session.execute(_sums(LedgerEntry.allocation_id))}
    for alloc in db.session.scalars(select(Allocation)):
        a, c, p, _adj = by_alloc.get(alloc.id, (0, 0, 0, 0))
        for name, total, ledger in (("allocated", alloc.allocated, a), ("committed", alloc.committed, c),
                                    ("paid", alloc.paid, p)):
            if Decimal(total) != Decimal(ledger):
                problems.append(f"allocation {alloc.id}: {name} {total} but ledger says {ledger}")
    return problems

