"""Every PAYMENT_MACHINE transition, allowed and forbidden, from the machine registry."""

from __future__ import annotations

from datetime import date
from itertools import product

import pytest
from sqlalchemy import update

from procure import workflow
from procure.errors import InvalidTransition
from procure.payments.models import PAYMENT_MACHINE, Payment, PaymentState

from .conftest import world

P = PaymentState
PAIRS = list(product(P, P))
VALUES = {P.PAID: {"voucher_number": "PZ-1", "paid_on": date(2026, 5, 1)}, P.REJECTED: {"reject_reason": "不符"}}


def test_registered_with_the_domain_map():
    assert workflow.MACHINES["payment"] is PAYMENT_MACHINE
    assert PAYMENT_MACHINE.allowed == {
        P.REQUESTED: {P.APPROVED, P.REJECTED}, P.APPROVED: {P.PAID, P.REJECTED}, P.PAID: set(), P.REJECTED: set()}


def test_every_pair(make, db):
    ns = world(make, db)
    payment = db.session.query(Payment).one()
    fin = ns.fin1
    for frm, to in PAIRS:
        db.session.execute(update(Payment).where(Payment.id == payment.id).values(
            state=frm, voucher_number="PZ-0" if frm == P.PAID else None, paid_on=date(2026, 4, 1) if frm == P.PAID
            else None, paid_by_id=fin.id if frm == P.PAID else None,
            reject_reason="x" if frm == P.REJECTED else None))
        db.session.expire_all()
        payment = db.session.get(Payment, payment.id)
        values = dict(VALUES.get(to, {}))
        if to == P.PAID:
            values["paid_by_id"] = fin.id
        if PAYMENT_MACHINE.can(frm, to):
            PAYMENT_MACHINE.transition(payment, to, fin, values=values)
            assert payment.state == to
        else:
            with pytest.raises(InvalidTransition):
                PAYMENT_MACHINE.transition(payment, to, fin, values=values)
            assert payment.state == frm
    db.session.rollback()
