"""Money services: funding sources, appropriations and their adjustments, contract
money, reconciliation. Each checks permission and validates input, then takes the
action's locks with ``ledger.lock_for_money`` (one fixed order) and moves money with the
ledger's primitives, audits and flushes; the caller commits once.

Hard stops (DOMAIN.md §5), checked by the primitives under the row locks and held again
by CHECK constraints: allocated ≤ appropriated, committed ≤ allocated, paid ≤ committed.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from .. import audit
from ..auth.models import Department
from ..errors import ValidationError
from ..extensions import db
from ..parsing import MAX_AMOUNT, check_fiscal_year, parse_amount, parse_id
from ..permissions import define, require
from ..roles import Role
from . import ledger
from .models import (
    SOURCES,
    Allocation,
    Appropriation,
    AppropriationAdjustment,
    ContractFunding,
    EntryKind,
    FundingSource,
    LedgerEntry,
)

define("budget.view", {Role.FINANCE, Role.ADMIN})
define("budget.manage", {Role.FINANCE})
define("report.view", {Role.FINANCE, Role.ADMIN})

# Ids, amounts and fiscal years are parsed by procure.parsing (imported above).


def _get_by_id(model, raw):
    """The row whose id was typed into a request, or None."""
    value = parse_id(raw)
    return db.session.get(model, value) if value is not None else None


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


def adjust_appropriation(actor, appropriation: Appropriation, delta, reason: str) -> AppropriationAdjustment:
    """Raise or lower the appropriated amount, as its own audited record with a reason.
    A decrease cannot go below what is already allocated."""
    require(actor, "budget.manage")
    delta = parse_amount(delta, "delta", allow_negative=True)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_l("Give the reason for the adjustment."), field="reason")
    locked = ledger.lock_for_money(appropriation_ids=[appropriation.id])
    appr = locked.appropriation(appropriation.id)
    before = appr.amount
    if before + delta > MAX_AMOUNT:
        raise ValidationError(_l("The amount is too large."), field="delta")
    adj = ledger.adjust(locked, appr.id, delta, actor=actor, reason=reason)
    audit.record(actor, "appropriation.adjust", appr, before={"amount": before},
                 after={"amount": appr.amount, "delta": delta, "reason": reason, "adjustment_id": adj.id})
    return adj


# --- contract money (the contracts and payments issues bring their own services) ---

def _required_id(raw, field: str) -> int:
    value = parse_id(raw)
    if value is None:
        raise ValidationError(_l("Give a valid number."), field=field)
    return value


def commit_funds(actor, allocation_id: int, amount, *, contract_id: int,
                 reason: str | None = None) -> LedgerEntry:
    """Commit part of an allocation to a contract (a contract signed). Refused beyond
    the allocation's uncommitted money."""
    require(actor, "budget.manage")
    amount = parse_amount(amount)
    allocation_id = _required_id(allocation_id, "allocation_id")
    contract_id = _required_id(contract_id, "contract_id")
    locked = ledger.lock_for_money(allocation_ids=[allocation_id], contract_id=contract_id)
    entry = ledger.commit(locked, allocation_id, contract_id, amount, actor=actor, reason=reason)
    audit.record(actor, "ledger.commit", "allocations", allocation_id,
                 after={"amount": amount, "contract_id": contract_id})
    return entry


def pay(actor, allocation_id: int, amount, *, contract_id: int, payment_id: int,
        reason: str | None = None) -> LedgerEntry:
    """Record payment ``payment_id`` against the contract's commitment on the allocation.
    Refused beyond the unpaid commitment. A retry of the same payment is answered with
    the first entry and changes (and audits) nothing."""
    require(actor, "budget.manage")
    amount = parse_amount(amount)
    allocation_id = _required_id(allocation_id, "allocation_id")
    contract_id = _required_id(contract_id, "contract_id")
    payment_id = _required_id(payment_id, "payment_id")
    locked = ledger.lock_for_money(allocation_ids=[allocation_id], contract_id=contract_id)
    repeated = ledger.recorded(EntryKind.PAY, payment_id, allocation_id) is not None
    entry = ledger.pay(locked, allocation_id, contract_id, amount, payment_id=payment_id, actor=actor,
                       reason=reason)
    if not repeated:
        audit.record(actor, "ledger.pay", "allocations", allocation_id,
                     after={"amount": amount, "contract_id": contract_id, "payment_id": payment_id})
    return entry


# --- reconciliation ---------------------------------------------------------------

def _sums(*group_cols):
    """Ledger sums grouped by ``group_cols``: (allocated, committed, paid, adjusted)."""
    k = LedgerEntry.kind

    def s(*kinds):
        return func.coalesce(func.sum(LedgerEntry.amount).filter(k.in_(kinds)), 0)

    return select(*group_cols,
                  s(EntryKind.ALLOCATE) - s(EntryKind.RELEASE),
                  s(EntryKind.COMMIT) - s(EntryKind.DECOMMIT),
                  s(EntryKind.PAY) - s(EntryKind.REVERSE),
                  s(EntryKind.ADJUST)).group_by(*group_cols)


def _differ(problems: list[str], what: str, pairs) -> None:
    for name, total, expected, source in pairs:
        if Decimal(total) != Decimal(expected):
            problems.append(f"{what}: {name} {total} but {source} says {expected}")


def _named_table(column):
    """The table that a foreign key ``column`` names: budgets sits below contracts and
    payments, so it reads their tables without importing their models."""
    return next(iter(column.foreign_keys)).column.table


def _payments_of_other_contracts() -> list[str]:
    """Ledger entries whose payment is one of another contract, or (through its contract)
    of another project than the entry's."""
    entries = LedgerEntry.__table__
    payments = _named_table(entries.c.payment_id)
    contracts = _named_table(payments.c.contract_id)
    rows = db.session.execute(
        select(entries.c.id, entries.c.payment_id, entries.c.contract_id, entries.c.project_id,
               payments.c.contract_id, contracts.c.project_id)
        .join(payments, payments.c.id == entries.c.payment_id)
        .join(contracts, contracts.c.id == payments.c.contract_id)
        .where(or_(entries.c.contract_id.is_distinct_from(payments.c.contract_id),
                   and_(entries.c.project_id.is_not(None), entries.c.project_id != contracts.c.project_id)))
        .order_by(entries.c.id))
    problems = []
    for entry, payment, contract, project, paid_contract, paid_project in rows:
        if contract != paid_contract:
            problems.append(f"ledger entry {entry}: payment {payment} is of contract {paid_contract}, "
                            f"not of the entry's contract {contract}")
        else:
            problems.append(f"ledger entry {entry}: payment {payment} is of project {paid_project}, "
                            f"not of the entry's project {project}")
    return problems


def reconcile() -> list[str]:
    """Compare every running total with the ledger's sums, and each allocation's
    contract money with its contract fundings; check that every entry's payment is one
    of the entry's contract; the list of differences."""
    problems: list[str] = _payments_of_other_contracts()
    by_appr = {row[0]: row[1:] for row in db.session.execute(_sums(LedgerEntry.appropriation_id))}
    adjusted = dict(db.session.execute(
        select(AppropriationAdjustment.appropriation_id, func.sum(AppropriationAdjustment.delta))
        .group_by(AppropriationAdjustment.appropriation_id)).all())
    for appr in db.session.scalars(select(Appropriation).order_by(Appropriation.id)):
        alloc, comm, paid, adj = by_appr.get(appr.id, (0, 0, 0, 0))
        _differ(problems, f"appropriation {appr.id}", [
            ("adjustments", adjusted.get(appr.id, 0), adj, "ledger adjust"),
            ("allocated", appr.allocated, alloc, "ledger"), ("committed", appr.committed, comm, "ledger"),
            ("paid", appr.paid, paid, "ledger")])
    by_alloc = {row[0]: row[1:] for row in db.session.execute(_sums(LedgerEntry.allocation_id))}
    by_funding_of_alloc = {row[0]: row[1:] for row in db.session.execute(
        select(ContractFunding.allocation_id, func.sum(ContractFunding.committed), func.sum(ContractFunding.paid))
        .group_by(ContractFunding.allocation_id))}
    for alloc in db.session.scalars(select(Allocation).order_by(Allocation.id)):
        a, c, p, _adj = by_alloc.get(alloc.id, (0, 0, 0, 0))
        fc, fp = by_funding_of_alloc.get(alloc.id, (0, 0))
        _differ(problems, f"allocation {alloc.id}", [
            ("allocated", alloc.allocated, a, "ledger"), ("committed", alloc.committed, c, "ledger"),
            ("paid", alloc.paid, p, "ledger"), ("committed", alloc.committed, fc, "its contract fundings"),
            ("paid", alloc.paid, fp, "its contract fundings")])
    by_contract = {(row[0], row[1]): row[2:] for row in db.session.execute(
        _sums(LedgerEntry.contract_id, LedgerEntry.allocation_id).where(LedgerEntry.contract_id.is_not(None)))}
    fundings = {(f.contract_id, f.allocation_id): f for f in db.session.scalars(
        select(ContractFunding).order_by(ContractFunding.contract_id, ContractFunding.allocation_id))}
    for key in sorted(set(fundings) | set(by_contract)):
        f = fundings.get(key)
        _a, c, p, _adj = by_contract.get(key, (0, 0, 0, 0))
        _differ(problems, f"contract {key[0]} on allocation {key[1]}", [
            ("committed", f.committed if f else 0, c, "ledger"), ("paid", f.paid if f else 0, p, "ledger")])
    return problems

