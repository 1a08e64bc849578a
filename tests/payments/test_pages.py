"""The chain walked through the pages with the test client: confirm, a stale approval
refused, approve, record (confirmation box required), reject (reason required); the
contract page links its payments."""

from __future__ import annotations

from sqlalchemy import select

from procure.payments.models import Payment, PaymentState
from procure.timeutil import to_local, utcnow

from ..conftest import login
from .conftest import world


def test_the_chain_through_the_pages(client, make, db):
    ns = world(make, db)
    pid = db.session.scalar(select(Payment.id).where(Payment.contract_id == ns.contract.id))
    login(client, ns.officer.username)
    page = client.get(f"/payments/{pid}").get_data(as_text=True)
    assert f'action="/payments/{pid}/confirm"' in page and 'id="record"' not in page
    rev = db.session.get(Payment, pid).revision
    assert client.post(f"/payments/{pid}/confirm", data={"revision": rev}).status_code == 302
    # finance: a stale page is refused with a message, nothing written
    client.post("/logout")
    login(client, ns.fin1.username)
    resp = client.post(f"/payments/{pid}/approve", data={"revision": rev})
    assert resp.status_code == 400 and "alert" in resp.get_data(as_text=True)
    db.session.expire_all()
    p = db.session.get(Payment, pid)
    assert p.steps_done == 1
    assert client.post(f"/payments/{pid}/approve", data={"revision": p.revision}).status_code == 302
    db.session.expire_all()
    p = db.session.get(Payment, pid)
    assert p.state == PaymentState.APPROVED
    # recording needs the confirmation box
    day = to_local(utcnow()).date().isoformat()
    resp = client.post(f"/payments/{pid}/record", data={"record-voucher_number": "PZ-P1", "record-paid_on": day,
                                                        "record-revision": p.revision})
    assert resp.status_code == 400
    resp = client.post(f"/payments/{pid}/record", data={"record-voucher_number": "PZ-P1", "record-paid_on": day,
                                                        "record-confirm": "y", "record-revision": p.revision})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Payment, pid).state == PaymentState.PAID
    # the contract page links its payments
    page = client.get(f"/contracts/{ns.contract.id}").get_data(as_text=True)
    assert f"/contracts/{ns.contract.id}/payments" in page


def test_rejection_needs_a_reason_on_the_page(client, make, db):
    ns = world(make, db)
    pid = db.session.scalar(select(Payment.id).where(Payment.contract_id == ns.contract.id))
    login(client, ns.officer.username)
    resp = client.post(f"/payments/{pid}/reject", data={"reject-reason": "", "reject-confirm": "y"})
    assert resp.status_code == 400
    db.session.expire_all()
    assert db.session.get(Payment, pid).state == PaymentState.REQUESTED
    resp = client.post(f"/payments/{pid}/reject", data={"reject-reason": "附件不全", "reject-confirm": "y"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Payment, pid).state == PaymentState.REJECTED
