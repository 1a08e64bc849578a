"""Payment reminders: an approved payment unpaid for 10 days, and the final installment
due 30 days after acceptance — to finance, each at most once per object, rule, due date
and recipient."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select, update

from procure.auth.models import User
from procure.notifications.models import Notice, Notification
from procure.payments import services as ps
from procure.payments.models import Payment, PaymentState
from procure.reminders import engine
from procure.roles import Role

from .conftest import world

#: 2026-06-01 10:00 in Beijing, stored as naive UTC.
APPROVED_AT = datetime(2026, 6, 1, 2, 0)


def _finance(db) -> set[int]:
    return set(db.session.scalars(select(User.id).where(User.role == Role.FINANCE)))


def test_approved_but_unpaid_for_ten_days(make, db):
    ns = world(make, db)
    p = db.session.scalar(select(Payment))
    ps.confirm_payment(ns.officer, p)
    ps.approve_payment(ns.fin1, p)
    db.session.execute(update(Payment).where(Payment.id == p.id).values(approved_at=APPROVED_AT))
    db.session.commit()
    finance = _finance(db)
    assert engine.scan(date(2026, 6, 10), only=["payment.unpaid"]) == {}
    assert engine.scan(date(2026, 6, 11), only=["payment.unpaid"]) == {"payment.unpaid": len(finance)}
    assert engine.scan(date(2026, 6, 11), only=["payment.unpaid"]) == {"payment.unpaid": 0}  # once
    assert engine.scan(date(2026, 6, 12), only=["payment.unpaid"]) == {"payment.unpaid": 0}  # caught up, once
    db.session.commit()
    told = set(db.session.scalars(select(Notice.user_id).where(Notice.rule == "payment.unpaid")))
    assert told == finance and ns.officer.id not in told
    email = db.session.scalar(select(Notification).where(Notification.rule == "payment.unpaid"))
    assert ns.contract.number in email.subject and f"/payments/{p.id}" in email.body_text
    # a paid payment is not reminded
    db.session.execute(update(Payment).where(Payment.id == p.id).values(
        state=PaymentState.PAID, voucher_number="PZ-R", paid_on=date(2026, 6, 20), paid_by_id=ns.fin2.id))
    db.session.commit()
    assert engine.scan(date(2026, 6, 11), only=["payment.unpaid"]) == {}


def test_final_payment_due_after_acceptance(make, db):
    from .conftest import acceptance

    ns = world(make, db, approved=(), send=False)
    acceptance(db, ns.contract, ns.officer, decided_at=APPROVED_AT)  # passed 2026-06-01; due 2026-07-01
    db.session.commit()
    finance = _finance(db)
    assert engine.scan(date(2026, 6, 23), only=["payment.due"]) == {}
    assert engine.scan(date(2026, 6, 24), only=["payment.due"]) == {"payment.due": len(finance)}
    assert engine.scan(date(2026, 6, 24), only=["payment.due"]) == {"payment.due": 0}
    assert engine.scan(date(2026, 6, 30), only=["payment.due"]) == {"payment.due": len(finance)}
    db.session.commit()
    keys = db.session.scalar(select(func.count(func.distinct(Notice.dedupe_key))).where(Notice.rule == "payment.due"))
    assert keys == 2 * len(finance)
    # once the final installment is paid, nothing more
    final = ns.contract.installments[-1]
    db.session.add(Payment(contract_id=ns.contract.id, installment_id=final.id, organization_id=ns.org.id,
                           department_id=ns.contract.department_id, amount=final.amount, state=PaymentState.PAID,
                           steps=["finance"], steps_done=1, requested_by_id=ns.fin1.id, voucher_number="PZ-F",
                           paid_on=date(2026, 6, 30), paid_by_id=ns.fin2.id))
    db.session.commit()
    assert engine.scan(date(2026, 6, 30), only=["payment.due"]) == {}
