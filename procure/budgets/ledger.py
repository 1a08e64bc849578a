"""The money ledger's primitives, and the one function that takes a money action's locks.

Internal to the money services (budgets, projects, later contracts and payments): the
user-facing service checks permissions and states, calls ``lock_for_money`` once, then
one or more primitives, audits, and the caller commits once.

Lock order — every money action takes its row locks in this order, so two actions
never wait on each other in a cycle (no deadlock):

1. appropriations, by id
2. projects, by id
3. allocations, by id
4. contract fundings, by id
5. the payment key: the unique (kind, payment_id, allocation_id) of ``ledger_entries``,
   checked last, under all the locks above (the unique constraint holds it even for a
   caller that forgot them).

``lock_for_money`` takes the closure upwards of what it is given: an allocation brings
its appropriation and project, a contract its fundings with their allocations, a
project all its allocations and their appropriations. It returns the locked rows
(``SELECT … FOR UPDATE``, read fresh with ``populate_existing``) as a ``Locked`` set.

The primitives (``adjust``, ``allocate``, ``release``, ``commit``, ``decommit``,
``pay``, ``reverse``) take that set and refuse a row that is not in it. They check
only money invariants (raising ``BudgetExceeded`` that says how much is available),
never roles and never states; each appends one ``LedgerEntry`` and updates the running
totals on the appropriation, the allocation and (for contract money) the contract's
funding row, inside a savepoint: they never roll back the caller's session. A CHECK
constraint that still refuses (the last line of defence) becomes ``BudgetExceeded``;
any other database error propagates. ``pay`` and ``reverse`` are idempotent: called
again for the same payment and allocation they answer with the first entry and change
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from ..errors import BudgetExceeded, Conflict, NotFound, ValidationError
from ..extensions import db
from ..money import format_money
from .models import (
    ZERO,
    Allocation,
    Appropriation,
    AppropriationAdjustment,
    ContractFunding,
    EntryKind,
    LedgerEntry,
)

#: CHECK constraints that hold the money invariants; a violation is "not enough money".
MONEY_CHECKS = frozenset({
    "ck_appropriations_appropriation_amount_not_negative",
    "ck_appropriations_appropriation_allocated_within_amount",
    "ck_appropriations_appropriation_committed_within_allocated",
    "ck_appropriations_appropriation_paid_within_committed",
    "ck_allocations_allocation_allocated_not_negative",
    "ck_allocations_allocation_committed_within_allocated",
    "ck_allocations_allocation_paid_within_committed",
    "ck_contract_fundings_contract_funding_committed_not_negative",
    "ck_contract_fundings_contract_funding_paid_within_committed",
})
PAYMENT_KEY = "uq_ledger_payment_once"
#: How SQLite names the payment key in its message (it does not give constraint names).
_SQLITE_PAYMENT_KEY = "ledger_entries.kind, ledger_entries.payment_id, ledger_entries.allocation_id"


class LockNotHeld(RuntimeError):
    """A primitive was given a row its caller did not lock: a programming error."""


def _project_model():
    # The project model through the allocation's relationship: budgets must not import
    # projects (dependencies point budgets ← projects).
    return inspect(Allocation).relationships["project"].mapper.class_


@dataclass
class Locked:
    """The rows a money action holds locked, by id (fundings by (contract, allocation))."""

    appropriations: dict[int, Appropriation] = field(default_factory=dict)
    projects: dict[int, object] = field(default_factory=dict)
    allocations: dict[int, Allocation] = field(default_factory=dict)
    fundings: dict[tuple[int, int], ContractFunding] = field(default_factory=dict)

    @property
    def project(self):
        """The one locked project (None when none is)."""
        if len(self.projects) > 1:
            raise LockNotHeld("several projects are locked; name one")
        return next(iter(self.projects.values()), None)

    def appropriation(self, appropriation_id: int) -> Appropriation:
        try:
            return self.appropriations[appropriation_id]
        except KeyError:
            raise LockNotHeld(f"appropriation {appropriation_id} is not locked") from None

    def allocation(self, allocation_id: int) -> Allocation:
        try:
            return self.allocations[allocation_id]
        except KeyError:
            raise LockNotHeld(f"allocation {allocation_id} is not locked") from None

    def funding(self, contract_id: int, allocation_id: int) -> ContractFunding | None:
        """The contract's funding row on the allocation (None if the contract has none
        yet); the allocation must be locked."""
        self.allocation(allocation_id)
        return self.fundings.get((contract_id, allocation_id))


def _locked_rows(model, ids) -> list:
    if not ids:
        return []
    return list(db.session.scalars(select(model).where(model.id.in_(sorted(ids))).order_by(model.id)
                                   .with_for_update(of=model).execution_options(populate_existing=True)))


def _changed_meanwhile():
    return Conflict(_l("The budget of this project was changed by someone else at the same time; "
                       "reload the page and try again."))


def lock_for_money(*, appropriation_ids: Iterable[int] = (), project_id: int | None = None,
                   allocation_ids: Iterable[int] = (), contract_id: int | None = None) -> Locked:
    """Lock the rows of one money action in the fixed order of this module's docstring
    and return them. Raises ``NotFound`` for an id that does not exist, and ``Conflict``
    when a concurrent action added rows to the closure between reading and locking it."""
    appr_ids, alloc_ids = set(appropriation_ids), set(allocation_ids)
    project_ids = {project_id} if project_id is not None else set()
    # The closure, read without locks: the links it follows (an allocation's
    # appropriation and project, a funding's allocation) never change once written.
    if contract_id is not None:
        alloc_ids |= set(db.session.scalars(select(ContractFunding.allocation_id)
                                            .where(ContractFunding.contract_id == contract_id)))
    links = db.session.execute(select(Allocation.id, Allocation.appropriation_id, Allocation.project_id).where(
        Allocation.id.in_(alloc_ids) | Allocation.project_id.in_(project_ids))).all() \
        if alloc_ids or project_ids else []
    if alloc_ids - {r.id for r in links}:
        raise NotFound(_l("This allocation does not exist."))
    alloc_ids |= {r.id for r in links}
    appr_ids |= {r.appropriation_id for r in links}
    project_ids |= {r.project_id for r in links}

    locked = Locked()
    locked.appropriations = {a.id: a for a in _locked_rows(Appropriation, appr_ids)}
    if appr_ids - set(locked.appropriations):
        raise NotFound(_l("This appropriation does not exist."))
    Project = _project_model()  # noqa: N806 - a class
    locked.projects = {p.id: p for p in _locked_rows(Project, project_ids)}
    if project_ids - set(locked.projects):
        raise NotFound(_l("This project does not exist."))
    if project_id is not None:
        # Allocations of a project are created only under its lock, which is now held:
        # this read is complete, and any row it adds must have its appropriation locked.
        late = db.session.execute(select(Allocation.id, Allocation.appropriation_id)
                                  .where(Allocation.project_id == project_id)).all()
        if any(r.appropriation_id not in locked.appropriations for r in late):
            raise _changed_meanwhile()
        alloc_ids |= {r.id for r in late}
    locked.allocations = {a.id: a for a in _locked_rows(Allocation, alloc_ids)}
    if contract_id is not None:
        fundings = list(db.session.scalars(
            select(ContractFunding).where(ContractFunding.contract_id == contract_id).order_by(ContractFunding.id)
            .with_for_update(of=ContractFunding).execution_options(populate_existing=True)))
        if any(f.allocation_id not in locked.allocations for f in fundings):
            raise _changed_meanwhile()
        locked.fundings = {(f.contract_id, f.allocation_id): f for f in fundings}
    return locked


# --- writing ----------------------------------------------------------------------

def _constraint_name(exc: IntegrityError) -> str:
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return name
    message = str(exc.orig)  # SQLite: "CHECK constraint failed: <name>" / "UNIQUE … failed: <cols>"
    if _SQLITE_PAYMENT_KEY in message:
        return PAYMENT_KEY
    return next((n for n in MONEY_CHECKS if n in message), "")


class _PaymentKeyTaken(Exception):
    pass


def _write(entry: LedgerEntry, moves: list[tuple[object, str, Decimal]], *also) -> LedgerEntry:
    """Apply the running-total ``moves`` (row, column, signed delta) and append ``entry``
    (and the rows ``also``) in a savepoint; a refused write leaves the caller's
    transaction as it was."""
    try:
        with db.session.begin_nested():
            for row, column, delta in moves:
                setattr(row, column, getattr(row, column) + delta)
            db.session.add_all([entry, *also])
            db.session.flush()
    except IntegrityError as exc:
        name = _constraint_name(exc)
        if name in MONEY_CHECKS:
            raise BudgetExceeded(_l("The change would exceed the available funds; nothing was saved.")) from exc
        if name == PAYMENT_KEY:
            raise _PaymentKeyTaken from exc
        raise
    return entry


def _check_amount(amount: Decimal) -> Decimal:
    if not isinstance(amount, Decimal):
        raise TypeError("money is a Decimal")
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(_l("The amount must be positive, with at most two decimals (fen)."), field="amount")
    return amount


def _entry(kind: EntryKind, amount: Decimal, alloc: Allocation, actor, reason, **link) -> LedgerEntry:
    return LedgerEntry(kind=kind, amount=amount, appropriation_id=alloc.appropriation_id,
                       project_id=alloc.project_id, allocation_id=alloc.id, actor_id=actor.id,
                       reason=reason, **link)


def project_allocated(project_id: int) -> Decimal:
    """What ``project`` holds allocated over all its allocations (exact under its lock)."""
    return db.session.scalar(select(func.coalesce(func.sum(Allocation.allocated), ZERO))
                             .where(Allocation.project_id == project_id))


# --- the primitives ---------------------------------------------------------------

def adjust(locked: Locked, appropriation_id: int, delta: Decimal, *, actor,
           reason: str) -> AppropriationAdjustment:
    """Change the appropriated amount by ``delta`` (signed, not zero), with its
    adjustment record and ledger entry. Refused below what is already allocated."""
    appr = locked.appropriation(appropriation_id)
    if not isinstance(delta, Decimal) or delta == 0:
        raise ValidationError(_l("The amount must not be zero."), field="delta")
    if appr.amount + delta < appr.allocated:
        raise BudgetExceeded(_l("The appropriation cannot go below what is already allocated "
                                "(%(allocated)s).", allocated=format_money(appr.allocated)), field="delta")
    adj = AppropriationAdjustment(appropriation_id=appr.id, delta=delta, amount_before=appr.amount,
                                  amount_after=appr.amount + delta, reason=reason, actor_id=actor.id)
    _write(LedgerEntry(kind=EntryKind.ADJUST, amount=delta, appropriation_id=appr.id, actor_id=actor.id,
                       reason=reason), [(appr, "amount", delta)], adj)
    return adj


def allocate(locked: Locked, appropriation_id: int, amount: Decimal, *, actor,
             reason: str | None = None) -> LedgerEntry:
    """Reserve ``amount`` of the appropriation for the locked project. Refused beyond
    what remains of the appropriation, and beyond the project's budget ceiling counting
    what the project already holds."""
    amount = _check_amount(amount)
    appr = locked.appropriation(appropriation_id)
    project = locked.project
    if project is None:
        raise LockNotHeld("allocate needs the project locked")
    if amount > appr.remaining:
        raise BudgetExceeded(_l("Only %(remaining)s remain in this appropriation; %(amount)s cannot be "
                                "allocated.", remaining=format_money(appr.remaining),
                                amount=format_money(amount)), field="allocations")
    held = project_allocated(project.id)
    if held + amount > project.budget_ceiling:
        raise BudgetExceeded(_l("The project already holds %(held)s of its budget ceiling of %(ceiling)s; only "
                                "%(available)s more can be allocated, not %(amount)s.", held=format_money(held),
                                ceiling=format_money(project.budget_ceiling),
                                available=format_money(max(project.budget_ceiling - held, ZERO)),
                                amount=format_money(amount)), field="allocations")
    alloc = next((a for a in locked.allocations.values()
                  if a.appropriation_id == appr.id and a.project_id == project.id), None)
    if alloc is None:
        if db.session.scalar(select(Allocation.id).where(Allocation.appropriation_id == appr.id,
                                                         Allocation.project_id == project.id)):
            raise LockNotHeld("the project's allocation exists but is not locked; lock by project_id")
        alloc = Allocation(appropriation_id=appr.id, project_id=project.id, allocated=ZERO, committed=ZERO,
                           paid=ZERO)
        db.session.add(alloc)
        db.session.flush()
        locked.allocations[alloc.id] = alloc
    return _write(_entry(EntryKind.ALLOCATE, amount, alloc, actor, reason),
                  [(alloc, "allocated", amount), (appr, "allocated", amount)])


def release(locked: Locked, allocation_id: int, amount: Decimal | None = None, *, actor,
            reason: str | None = None) -> LedgerEntry | None:
    """Give back ``amount`` (default: all) of the allocation's uncommitted money to its
    appropriation. None when there is nothing to release."""
    alloc = locked.allocation(allocation_id)
    appr = locked.appropriation(alloc.appropriation_id)
    free = alloc.allocated - alloc.committed
    if amount is None:
        if free <= 0:
            return None
        amount = free
    amount = _check_amount(amount)
    if amount > free:
        raise BudgetExceeded(_l("Only %(free)s of the allocation is not committed; %(amount)s cannot be "
                                "released.", free=format_money(free), amount=format_money(amount)), field="amount")
    return _write(_entry(EntryKind.RELEASE, amount, alloc, actor, reason),
                  [(alloc, "allocated", -amount), (appr, "allocated", -amount)])


def commit(locked: Locked, allocation_id: int, contract_id: int, amount: Decimal, *, actor,
           reason: str | None = None) -> LedgerEntry:
    """Commit ``amount`` of the allocation to the contract (a contract signed, or its
    value raised). Refused beyond the allocation's uncommitted money."""
    amount = _check_amount(amount)
    alloc = locked.allocation(allocation_id)
    appr = locked.appropriation(alloc.appropriation_id)
    free = alloc.allocated - alloc.committed
    if amount > free:
        raise BudgetExceeded(_l("Only %(free)s of the allocation is not yet committed; %(amount)s cannot be "
                                "committed.", free=format_money(free), amount=format_money(amount)),
                             field="amount")
    funding = locked.funding(contract_id, alloc.id)
    if funding is None:
        # Created under the allocation's lock: no one else can create it meanwhile.
        funding = ContractFunding(contract_id=contract_id, allocation_id=alloc.id, committed=ZERO, paid=ZERO)
        db.session.add(funding)
        locked.fundings[(contract_id, alloc.id)] = funding
    return _write(_entry(EntryKind.COMMIT, amount, alloc, actor, reason, contract_id=contract_id),
                  [(funding, "committed", amount), (alloc, "committed", amount), (appr, "committed", amount)])


def decommit(locked: Locked, allocation_id: int, contract_id: int, amount: Decimal, *, actor,
             reason: str | None = None) -> LedgerEntry:
    """Give back ``amount`` of the contract's unpaid commitment to the allocation (a
    contract ended early or its value lowered). Refused beyond committed − paid."""
    amount = _check_amount(amount)
    alloc = locked.allocation(allocation_id)
    appr = locked.appropriation(alloc.appropriation_id)
    funding = locked.funding(contract_id, alloc.id)
    unpaid = funding.committed - funding.paid if funding else ZERO
    if amount > unpaid:
        raise BudgetExceeded(_l("Only %(unpaid)s of the contract's commitment is unpaid; %(amount)s cannot be "
                                "de-committed.", unpaid=format_money(unpaid), amount=format_money(amount)),
                             field="amount")
    return _write(_entry(EntryKind.DECOMMIT, amount, alloc, actor, reason, contract_id=contract_id),
                  [(funding, "committed", -amount), (alloc, "committed", -amount), (appr, "committed", -amount)])


def recorded(kind: EntryKind, payment_id: int, allocation_id: int) -> LedgerEntry | None:
    """The entry of ``kind`` (pay or reverse) already recorded for the payment on the
    allocation, if any."""
    return db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == kind,
                                                       LedgerEntry.payment_id == payment_id,
                                                       LedgerEntry.allocation_id == allocation_id))


def _repeat(first: LedgerEntry, contract_id: int, amount: Decimal | None) -> LedgerEntry:
    """A repeated call answers with the first entry, if it asks for the same thing."""
    if first.contract_id != contract_id or (amount is not None and first.amount != amount):
        raise Conflict(_l("This payment was already recorded as %(amount)s; it cannot be recorded again "
                          "differently.", amount=format_money(first.amount)), field="amount")
    return first


def _once(kind: EntryKind, payment_id: int, alloc: Allocation, contract_id: int, amount, write) -> LedgerEntry:
    first = recorded(kind, payment_id, alloc.id)
    if first is not None:
        return _repeat(first, contract_id, amount)
    try:
        return write()
    except _PaymentKeyTaken:
        # Someone recorded it meanwhile without holding our locks; the unique key held.
        return _repeat(recorded(kind, payment_id, alloc.id), contract_id, amount)


def pay(locked: Locked, allocation_id: int, contract_id: int, amount: Decimal, *, payment_id: int, actor,
        reason: str | None = None) -> LedgerEntry:
    """Record payment ``payment_id`` of ``amount`` against the contract's commitment on
    the allocation. Refused beyond committed − paid. Recorded at most once: called again
    for the same payment and allocation it returns the first entry and changes nothing."""
    amount = _check_amount(amount)
    alloc = locked.allocation(allocation_id)
    appr = locked.appropriation(alloc.appropriation_id)
    funding = locked.funding(contract_id, alloc.id)

    def write():
        unpaid = funding.committed - funding.paid if funding else ZERO
        if amount > unpaid:
            raise BudgetExceeded(_l("Only %(unpaid)s of the commitment is unpaid; %(amount)s cannot be paid.",
                                    unpaid=format_money(unpaid), amount=format_money(amount)), field="amount")
        return _write(_entry(EntryKind.PAY, amount, alloc, actor, reason, contract_id=contract_id,
                             payment_id=payment_id),
                      [(funding, "paid", amount), (alloc, "paid", amount), (appr, "paid", amount)])

    return _once(EntryKind.PAY, payment_id, alloc, contract_id, amount, write)


def reverse(locked: Locked, allocation_id: int, contract_id: int, *, payment_id: int, actor,
            amount: Decimal | None = None, reason: str | None = None) -> LedgerEntry:
    """Reverse payment ``payment_id`` on the allocation, wholly (default) or ``amount`` of
    it: the money is committed to the contract again, unpaid. Refused beyond what the
    payment paid. Recorded at most once, like ``pay``."""
    if amount is not None:
        amount = _check_amount(amount)
    alloc = locked.allocation(allocation_id)
    appr = locked.appropriation(alloc.appropriation_id)
    funding = locked.funding(contract_id, alloc.id)

    def write():
        paid = recorded(EntryKind.PAY, payment_id, alloc.id)
        if paid is None or paid.contract_id != contract_id or funding is None:
            raise BudgetExceeded(_l("Nothing was paid under this payment from this allocation; there is nothing "
                                    "to reverse."), field="amount")
        value = paid.amount if amount is None else amount
        if value > min(paid.amount, funding.paid):
            raise BudgetExceeded(_l("Only %(paid)s was paid under this payment; %(amount)s cannot be reversed.",
                                    paid=format_money(min(paid.amount, funding.paid)),
                                    amount=format_money(value)), field="amount")
        return _write(_entry(EntryKind.REVERSE, value, alloc, actor, reason, contract_id=contract_id,
                             payment_id=payment_id),
                      [(funding, "paid", -value), (alloc, "paid", -value), (appr, "paid", -value)])

    return _once(EntryKind.REVERSE, payment_id, alloc, contract_id, amount, write)
