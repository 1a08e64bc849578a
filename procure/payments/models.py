"""Payments and their approval steps. DOMAIN.md §3 (Payment), §4 (Payment: requested →
approved → paid | rejected), §5 (contracts and payments). Times UTC; money
``Numeric(14, 2)``.

A payment is one installment of a contract's schedule: at most one payment per
installment that is not rejected (a partial unique index), so an installment is never
raised twice; a rejected one may be raised again. While ``requested`` it goes through
its approval chain (``steps``, frozen when it is requested: e.g. officer, finance,
finance); each step done is a :class:`PaymentApproval` row (one per position, one per
person). The last approval moves it to ``approved``; finance then records it ``paid``
with the voucher number and date, which writes the ledger."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import workflow
from ..extensions import db, str_enum
from ..timeutil import utcnow


class PaymentState(enum.StrEnum):
    REQUESTED = "requested"  # raised; going through its approval chain
    APPROVED = "approved"  # every step approved; finance records it paid
    PAID = "paid"  # voucher recorded, ledger written
    REJECTED = "rejected"  # refused with a reason; the installment may be raised again

    @property
    def label(self):
        return STATE_LABELS[self]


STATE_LABELS = {
    PaymentState.REQUESTED: _l("Requested"),
    PaymentState.APPROVED: _l("Approved, to be paid"),
    PaymentState.PAID: _l("Paid"),
    PaymentState.REJECTED: _l("Rejected, not paid"),
}

P = PaymentState
#: DOMAIN.md §4: requested → approved → paid | rejected (reason). An approved payment may
#: still be rejected before it is paid (e.g. the bank details turned out wrong).
PAYMENT_MACHINE = workflow.Machine("payment", PaymentState, {
    P.REQUESTED: frozenset({P.APPROVED, P.REJECTED}),
    P.APPROVED: frozenset({P.PAID, P.REJECTED}),
    P.PAID: frozenset(),
    P.REJECTED: frozenset(),
}, actions={P.APPROVED: "approve", P.PAID: "pay", P.REJECTED: "reject"},
    labels={"approve": _l("Payment approved"), "pay": _l("Payment recorded as paid"),
            "reject": _l("Payment rejected"), "request": _l("Payment requested"),
            "step": _l("Payment step approved"), "not_raised": _l("Payment not raised")})


class Step(enum.StrEnum):
    """Who approves one step of the chain."""

    OFFICER = "officer"  # the department's officer confirms the request
    FINANCE = "finance"  # a finance officer approves

    @property
    def label(self):
        return {Step.OFFICER: _l("Officer's confirmation"), Step.FINANCE: _l("Finance approval")}[self]


class Waiting(enum.StrEnum):
    """Whose move it is (kept with every change, for the work lists)."""

    OFFICER = "officer"
    FINANCE = "finance"
    RECORD = "record"


class Payment(db.Model):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), nullable=False, index=True)
    installment_id: Mapped[int] = mapped_column(ForeignKey("contract_installments.id"), nullable=False, index=True)
    #: Denormalized from the contract for the access filters (organization, department).
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False, index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), nullable=False, index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    state: Mapped[PaymentState] = mapped_column(str_enum(PaymentState), nullable=False, default=P.REQUESTED,
                                                index=True)
    #: The approval chain, frozen when requested: a list of Step values, in order.
    steps: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: How many steps are approved so far.
    steps_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: Whose move it is: officer, finance, record (None when paid or rejected).
    waiting_for: Mapped[Waiting | None] = mapped_column(str_enum(Waiting), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    #: The officer who approved the milestone report (or decided acceptance) that raised it.
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    voucher_number: Mapped[str | None] = mapped_column(String(60), unique=True)
    paid_on: Mapped[date | None] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: The payment notice (拨付通知) PDF, rendered by the worker after it is paid.
    notice_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    notice_job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    contract = relationship("Contract")
    installment = relationship("Installment")
    organization = relationship("Organization")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    paid_by = relationship("User", foreign_keys=[paid_by_id])
    rejected_by = relationship("User", foreign_keys=[rejected_by_id])
    approvals = relationship("PaymentApproval", back_populates="payment", order_by="PaymentApproval.position")

    __table_args__ = (
        CheckConstraint("amount > 0", name="payment_amount_positive"),
        CheckConstraint("state <> 'paid' OR (voucher_number IS NOT NULL AND paid_on IS NOT NULL "
                        "AND paid_by_id IS NOT NULL)", name="payment_paid_has_voucher"),
        CheckConstraint("state <> 'rejected' OR reject_reason IS NOT NULL", name="payment_rejected_has_reason"),
        # An installment is raised at most once, unless that payment was rejected.
        Index("uq_payment_installment_active", "installment_id", unique=True,
              postgresql_where=text("state <> 'rejected'"), sqlite_where=text("state <> 'rejected'")),
    )

    @property
    def next_step(self) -> Step | None:
        """The step waiting for approval (None once the chain is complete)."""
        if self.state != P.REQUESTED or self.steps_done >= len(self.steps):
            return None
        return Step(self.steps[self.steps_done])

    def snapshot(self) -> dict:
        return {"contract_id": self.contract_id, "installment_id": self.installment_id, "amount": self.amount,
                "steps": list(self.steps)}


class PaymentApproval(db.Model):
    """One approved step of a payment's chain: who, when, with what comment."""

    __tablename__ = "payment_approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), nullable=False, index=True)
    #: 0-based position in the payment's ``steps``.
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    step: Mapped[Step] = mapped_column(str_enum(Step), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    #: Always "approved" (a rejection ends the payment and is kept on it).
    decision: Mapped[str] = mapped_column(String(20), nullable=False, default="approved")
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    payment = relationship("Payment", back_populates="approvals")
    user = relationship("User")

    __table_args__ = (
        UniqueConstraint("payment_id", "position", name="uq_payment_approval_position"),
        # Nobody approves the same payment twice.
        UniqueConstraint("payment_id", "user_id", name="uq_payment_approval_user"),
    )
