"""Payments on the dashboard: each role's payment work as queue counts and work lists,
every read narrowed by a permission rule's own filter.

- officers: payments of their department waiting for their confirmation
  (``payment.confirm``);
- finance: payments waiting for a finance approval, and approved payments to record
  paid (``payment.approve`` / ``payment.record``). A home lists only what its user can
  act on (issue 12): a payment that a finance officer may not approve (separation of
  duties: they requested it, reviewed what raised it or approved a step) is left out of
  their list; the other finance officers find it in theirs."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from ..contracts.models import Contract
from ..extensions import db
from ..money import format_money
from ..permissions import visible
from ..queues import Queue, WorkItem, WorkList, register_list
from ..queues import register as register_queue
from . import services  # noqa: F401  (the module's rules: payment.confirm, payment.approve, payment.record)
from .models import Payment, PaymentApproval, PaymentState, Waiting

LIMIT = 20


def _items(user, action: str, where, step, due_label, due_column) -> list[WorkItem]:
    rows = db.session.execute(visible(user, action, select(
        Payment.id, Payment.amount, Payment.state, due_column, Contract.number, Contract.title)
        .join(Contract, Contract.id == Payment.contract_id), Payment)
        .where(where).order_by(due_column, Payment.id).limit(LIMIT)).all()
    return [WorkItem(f"{number} · {title} · {format_money(amount)}", url_for("payments.detail", payment_id=pid),
                     state.label, step, due_label, due) for pid, amount, state, due, number, title in rows]


def _to_confirm(user) -> list[WorkItem]:
    return _items(user, "payment.confirm", Payment.waiting_for == Waiting.OFFICER,
                  _l("Confirm the payment request"), _l("Requested"), Payment.requested_at)


def _may_approve(user):
    """Not excluded from the finance step (``services.excluded_from_finance``, as SQL)."""
    return and_(or_(Payment.requested_by_id.is_(None), Payment.requested_by_id != user.id),
                or_(Payment.reviewed_by_id.is_(None), Payment.reviewed_by_id != user.id),
                Payment.id.not_in(select(PaymentApproval.payment_id).where(PaymentApproval.user_id == user.id)))


def _to_approve(user) -> list[WorkItem]:
    return _items(user, "payment.approve", and_(Payment.waiting_for == Waiting.FINANCE, _may_approve(user)),
                  _l("Approve the payment"), _l("Requested"), Payment.requested_at)


def _to_record(user) -> list[WorkItem]:
    return _items(user, "payment.record", Payment.state == PaymentState.APPROVED,
                  _l("Pay and record the voucher"), _l("Approved"), Payment.approved_at)


register_queue(Queue(
    "payment.to_confirm", "payment.confirm", _l("Payments to confirm"), Payment,
    lambda u: url_for("payments.index", tab="confirm"), where=lambda u: Payment.waiting_for == Waiting.OFFICER))
register_queue(Queue(
    "payment.to_approve", "payment.approve", _l("Payments to approve"), Payment,
    lambda u: url_for("payments.index", tab="approve"), where=lambda u: Payment.waiting_for == Waiting.FINANCE))
register_queue(Queue(
    "payment.to_record", "payment.record", _l("Approved payments to pay"), Payment,
    lambda u: url_for("payments.index", tab="pay"), where=lambda u: Payment.state == PaymentState.APPROVED))
register_list(WorkList("payment.to_confirm", "payment.confirm", _l("Payments to confirm"), _to_confirm, order=40))
register_list(WorkList("payment.to_approve", "payment.approve", _l("Payments to approve"), _to_approve,
                       empty=_l("No payment waits for your approval."), order=41))
register_list(WorkList("payment.to_record", "payment.record", _l("Approved payments to pay"), _to_record, order=42))
