"""Sealed fields: their values never enter the audit chain, only their hashes; no page of
the audit trail shows them to anyone, the administrator included."""

from __future__ import annotations

import sqlalchemy as sa

from procure import audit
from procure.audit import AuditEvent, sealed_hash, verify_chain
from procure.roles import Role

from .conftest import login

PRICE = "98765.43"
SECRET = "本投标文件的秘密内容 Q7X"


def _record(db, actor):
    audit.seal("test_bids", "price", "statement")
    audit.record(actor, "test.bid_submit", "test_bids", 7,
                 after={"price": PRICE, "statement": SECRET, "bidder": "同心养老"})
    audit.record(actor, "test.bid_change", "test_bids", 7,
                 before={"price": PRICE}, after={"price": "1.00"})
    db.session.commit()


def test_sealed_values_enter_the_chain_as_hashes_only(db, make):
    admin = make.admin()
    _record(db, admin)
    raw = db.session.scalars(sa.select(sa.cast(AuditEvent.before, sa.Text) + " " + sa.cast(AuditEvent.after, sa.Text)))
    dump = "\n".join(r or "" for r in raw)
    assert PRICE not in dump and SECRET not in dump and "1.00" not in dump
    assert sealed_hash(PRICE) in dump and sealed_hash(SECRET) in dump
    assert ev_after(db)["bidder"] == "同心养老"  # an unsealed field stays readable
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "test.bid_submit"))
    assert ev.after["price"] == sealed_hash(PRICE)
    assert verify_chain().ok


def test_no_page_shows_a_sealed_value_to_any_role(client, db, make):
    users = {Role.ADMIN: make.admin()}
    for role in (Role.OFFICER, Role.FINANCE, Role.EVALUATOR):
        users[role] = make.user(role)
    _record(db, users[Role.ADMIN])
    seen_hash = False
    for role, user in users.items():
        client.get("/logout")
        assert login(client, user.username).status_code == 302
        for path in ("/admin/audit", "/admin/audit?page=1", "/dashboard"):
            resp = client.get(path)
            text = resp.get_data(as_text=True)
            assert resp.status_code in (200, 403), path
            assert PRICE not in text and SECRET not in text, (role, path)
            seen_hash |= sealed_hash(PRICE)[7:19] in text or "sha256" in text
    assert seen_hash  # the admin's audit page shows that something sealed was recorded


def ev_after(db):
    return db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "test.bid_submit")).after
