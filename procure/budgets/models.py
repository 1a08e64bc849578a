"""Funding sources, appropriations (预算指标), their adjustments, allocations to projects
and the append-only money ledger.

The ledger is the truth: every movement of money is a ``LedgerEntry``. The running
totals on ``Appropriation`` and ``Allocation`` are updated in the same transaction under
row locks, and CHECK constraints hold the three hard stops of DOMAIN.md §5 as the last
line of defence (allocated ≤ appropriated, committed ≤ allocated, paid ≤ committed).
``ContractFunding`` says how much of each allocation a contract commits and has paid.
``flask budgets reconcile`` compares the totals with the ledger's sums. The money moves
themselves live in ``ledger.py``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db, str_enum
from ..timeutil import utcnow

ZERO = Decimal("0.00")


def _money(**kw):
    return mapped_column(Numeric(14, 2), nullable=False, default=ZERO, **kw)


class FundingSource(db.Model):
    """资金来源. Seeded by ``services.ensure_funding_sources``."""

    __tablename__ = "funding_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    @property
    def label(self):
        return SOURCE_LABELS.get(self.code, self.name)


#: The four sources of DOMAIN.md §3 (code, stored name, order).
SOURCES = [
    ("general", "一般公共预算", 1),
    ("lottery", "福利彩票公益金", 2),
    ("central", "中央财政专项", 3),
    ("matching", "配套资金", 4),
]
SOURCE_LABELS = {
    "general": _l("General public budget"),
    "lottery": _l("Welfare lottery public welfare fund"),
    "central": _l("Central government special fund"),
    "matching": _l("Local matching fund"),
}


class Appropriation(db.Model):
    """预算指标: source × fiscal year × department × amount, with running totals."""

    __tablename__ = "appropriations"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("funding_sources.id"), nullable=False, index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), nullable=False, index=True)
    #: Document number of the budget approval (指标文号), optional.
    reference: Mapped[str | None] = mapped_column(String(100))
    #: Appropriated amount: the original amount plus every adjustment.
    amount: Mapped[Decimal] = _money()
    allocated: Mapped[Decimal] = _money()
    committed: Mapped[Decimal] = _money()
    paid: Mapped[Decimal] = _money()
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    source = relationship("FundingSource", lazy="joined")
    department = relationship("Department", lazy="joined")
    adjustments = relationship("AppropriationAdjustment", back_populates="appropriation",
                               order_by="AppropriationAdjustment.id")

    __table_args__ = (
        UniqueConstraint("source_id", "fiscal_year", "department_id", name="uq_appropriation_source_year_dep"),
        CheckConstraint("amount >= 0", name="appropriation_amount_not_negative"),
        CheckConstraint("allocated >= 0 AND allocated <= amount", name="appropriation_allocated_within_amount"),
        CheckConstraint("committed >= 0 AND committed <= allocated", name="appropriation_committed_within_allocated"),
        CheckConstraint("paid >= 0 AND paid <= committed", name="appropriation_paid_within_committed"),
    )

    @property
    def remaining(self) -> Decimal:
        """What can still be allocated."""
        return self.amount - self.allocated

    def snapshot(self) -> dict:
        return {"source_id": self.source_id, "fiscal_year": self.fiscal_year,
                "department_id": self.department_id, "reference": self.reference, "amount": self.amount}


class AppropriationAdjustment(db.Model):
    """An increase or decrease of an appropriation, with its reason (never an overwrite)."""

    __tablename__ = "appropriation_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    appropriation_id: Mapped[int] = mapped_column(ForeignKey("appropriations.id"), nullable=False, index=True)
    #: Signed change of the appropriated amount.
    delta: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    amount_before: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    amount_after: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    appropriation = relationship("Appropriation", back_populates="adjustments")
    actor = relationship("User", lazy="joined")

    __table_args__ = (CheckConstraint("delta <> 0", name="adjustment_delta_not_zero"),)


class Allocation(db.Model):
    """The money of one appropriation reserved for one project, with running totals."""

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    appropriation_id: Mapped[int] = mapped_column(ForeignKey("appropriations.id"), nullable=False, index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), nullable=False, index=True)
    allocated: Mapped[Decimal] = _money()
    committed: Mapped[Decimal] = _money()
    paid: Mapped[Decimal] = _money()
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    appropriation = relationship("Appropriation", lazy="joined")
    project = relationship("Project", back_populates="allocations")

    __table_args__ = (
        UniqueConstraint("appropriation_id", "project_id", name="uq_allocation_appropriation_project"),
        CheckConstraint("allocated >= 0", name="allocation_allocated_not_negative"),
        CheckConstraint("committed >= 0 AND committed <= allocated", name="allocation_committed_within_allocated"),
        CheckConstraint("paid >= 0 AND paid <= committed", name="allocation_paid_within_committed"),
    )


class ContractFunding(db.Model):
    """How much of one allocation one contract commits and has paid (running totals,
    kept by ``ledger.commit``/``decommit``/``pay``/``reverse``).

    ``contract_id`` names a real contract (a foreign key to ``contracts``, by table name:
    the contracts module sits above budgets and is not imported here).
    """

    __tablename__ = "contract_fundings"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), nullable=False, index=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocations.id"), nullable=False, index=True)
    committed: Mapped[Decimal] = _money()
    paid: Mapped[Decimal] = _money()
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    allocation = relationship("Allocation")

    __table_args__ = (
        UniqueConstraint("contract_id", "allocation_id", name="uq_contract_funding_contract_allocation"),
        CheckConstraint("committed >= 0", name="contract_funding_committed_not_negative"),
        CheckConstraint("paid >= 0 AND paid <= committed", name="contract_funding_paid_within_committed"),
    )


class EntryKind(enum.StrEnum):
    ALLOCATE = "allocate"
    RELEASE = "release"
    COMMIT = "commit"
    #: Gives committed (unpaid) money of a contract back to its allocation.
    DECOMMIT = "decommit"
    PAY = "pay"
    #: Undoes (part of) one payment: the money is committed again, unpaid.
    REVERSE = "reverse"
    ADJUST = "adjust"

    @property
    def label(self):
        return {EntryKind.ALLOCATE: _l("Allocation"), EntryKind.RELEASE: _l("Release"),
                EntryKind.COMMIT: _l("Commitment"), EntryKind.DECOMMIT: _l("De-commitment"),
                EntryKind.PAY: _l("Payment"), EntryKind.REVERSE: _l("Payment reversal"),
                EntryKind.ADJUST: _l("Adjustment")}[self]


class LedgerEntry(db.Model):
    """One movement of money; append-only.

    ``amount`` is signed for ``adjust`` (the change of the appropriated amount) and
    positive for the others; ``release`` undoes an allocation, ``decommit`` a commitment,
    ``reverse`` a payment. ``contract_id`` names a real contract and ``payment_id`` a real
    payment (foreign keys, by table name: budgets sits below contracts and payments); the
    payment is one of the entry's contract (``flask budgets reconcile`` reports one that is
    not). A payment is recorded at most once per allocation, and reversed at most once: (kind,
    payment_id, allocation_id) is unique (rows without a payment never collide: NULLs
    are distinct).
    """

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(str_enum(EntryKind), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    appropriation_id: Mapped[int] = mapped_column(ForeignKey("appropriations.id"), nullable=False, index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    allocation_id: Mapped[int | None] = mapped_column(ForeignKey("allocations.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    actor = relationship("User", lazy="joined")

    __table_args__ = (
        CheckConstraint("kind = 'adjust' OR amount > 0", name="ledger_amount_positive"),
        CheckConstraint("kind = 'adjust' OR allocation_id IS NOT NULL", name="ledger_allocation_set"),
        CheckConstraint("kind NOT IN ('commit', 'decommit', 'pay', 'reverse') OR contract_id IS NOT NULL",
                        name="ledger_contract_set"),
        CheckConstraint("kind NOT IN ('pay', 'reverse') OR payment_id IS NOT NULL", name="ledger_payment_set"),
        UniqueConstraint("kind", "payment_id", "allocation_id", name="uq_ledger_payment_once"),
    )


@event.listens_for(LedgerEntry, "before_update")
def _refuse_update(mapper, connection, target):  # pragma: no cover - guard
    raise RuntimeError("ledger entries are append-only")


@event.listens_for(LedgerEntry, "before_delete")
def _refuse_delete(mapper, connection, target):  # pragma: no cover - guard
    raise RuntimeError("ledger entries are append-only")
