"""The payments' reminder rules (issue 11 item 7), registered with the generic engine
(``procure.reminders.engine``); found at start-up like views.

- ``payment.unpaid``: a payment approved N days ago (policy
  ``reminder.payment_unpaid_days``, default 10) and still not paid → finance;
- ``payment.due``: acceptance passed and the final installment is not paid yet; it is
  due ``payment.after_acceptance_days`` (30) after the acceptance decision; reminders
  ``reminder.payment_due_days`` (7, 1) days before that day → finance.

Days are Beijing days. The engine writes each reminder at most once per rule, offset,
object, due date and recipient."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from .. import policy
from ..acceptance.models import Acceptance, AcceptanceState
from ..contracts.models import Contract, Installment, Release
from ..extensions import db
from ..money import format_money
from ..reminders.engine import Due, ReminderRule, register
from ..timeutil import SHANGHAI, to_local
from .models import Payment, PaymentState
from .services import finance_users


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The Beijing day ``day`` as naive-UTC [start, end)."""
    begin = datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)
    return begin, begin + timedelta(days=1)


def _unpaid(today: date, offsets: tuple) -> Iterable[tuple[int, Due]]:
    people = None
    for offset in offsets:
        days = abs(offset)
        begin, end = day_bounds(today - timedelta(days=days))
        rows = db.session.execute(
            select(Payment.id, Payment.amount, Payment.approved_at, Contract.number, Contract.title)
            .join(Contract, Contract.id == Payment.contract_id)
            .where(Payment.state == PaymentState.APPROVED, Payment.approved_at >= begin, Payment.approved_at < end)
            .order_by(Payment.id)).all()
        if rows and people is None:
            people = finance_users()
        for pid, amount, approved_at, number, title in rows:
            yield -days, Due("payments", pid, today, {"finance": people}, "payments.detail", {"payment_id": pid},
                             {"number": number, "title": title, "amount": format_money(amount),
                              "approved": to_local(approved_at).date()})


def _due(today: date, offsets: tuple) -> Iterable[tuple[int, Due]]:
    within = int(policy.value("payment.after_acceptance_days"))
    paid = exists().where(Payment.installment_id == Installment.id, Payment.state == PaymentState.PAID)
    people = None
    for offset in offsets:
        if offset < 0:
            continue
        due_day = today + timedelta(days=offset)
        begin, end = day_bounds(due_day - timedelta(days=within))
        rows = db.session.execute(
            select(Installment.id, Installment.amount, Acceptance.decided_at, Contract.number, Contract.title,
                   Contract.id)
            .join(Contract, Contract.id == Installment.contract_id)
            .join(Acceptance, Acceptance.contract_id == Contract.id)
            .where(Installment.releases_on == Release.ACCEPTANCE, Acceptance.state == AcceptanceState.PASSED,
                   Acceptance.decided_at >= begin, Acceptance.decided_at < end, ~paid)
            .order_by(Installment.id)).all()
        if rows and people is None:
            people = finance_users()
        for iid, amount, decided_at, number, title, contract_id in rows:
            yield offset, Due("contract_installments", iid, due_day, {"finance": people},
                              "payments.contract_payments", {"contract_id": contract_id},
                              {"number": number, "title": title, "amount": format_money(amount),
                               "passed": to_local(decided_at).date(), "due": due_day})


register(ReminderRule("payment.unpaid", _l("Approved payment still unpaid"), "reminder_payment_unpaid",
                      "reminder.payment_unpaid_days", _unpaid, recipients=("finance",)))
register(ReminderRule("payment.due", _l("Final payment due after acceptance"), "reminder_payment_due",
                      "reminder.payment_due_days", _due, recipients=("finance",)))
