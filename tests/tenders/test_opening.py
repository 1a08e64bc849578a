"""The opening: on time, once, hashes against receipts, failed tenders, the master key
missing (nothing lost) and restored; sealing in a pg_dump; races on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from sqlalchemy import select

from procure import audit, create_app
from procure.calendar import CalendarNotEntered
from procure.errors import DomainError
from procure.jobs.models import Job
from procure.projects.models import ProjectState
from procure.tenders import bidding, events
from procure.tenders.models import Bid, BidState, Tender, TenderState
from procure.timeutil import to_local, utcnow

from ..conftest import app_config, session_database_url
from ..threads import race
from .helpers import PROPOSAL, bid_data, move_times, published_tender, submitted_bid, world

PG_DUMP = "/usr/lib/postgresql/15/bin/pg_dump"


def _opened_now(db, tender):
    move_times(db, tender, deadline=utcnow() - timedelta(minutes=2), opening=utcnow() - timedelta(minutes=1))
    db.session.commit()


def test_opening_verifies_each_hash_and_records(db, make):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    prices = ["61000.00", "59000.50", "70000.00"]
    bids = [submitted_bid(tender, u, p) for (_o, u), p in zip(bidders, prices, strict=True)]
    receipts = {b.id: b.sealed_sha256 for b in bids}
    _opened_now(db, tender)
    assert events.apply_due_events() == ["applied:opening"]
    db.session.expire_all()
    tender = db.session.get(Tender, tender.id)
    assert tender.state == TenderState.CLOSED and tender.opened_at and tender.next_event is None
    record = events.opening_record(tender)
    assert sorted(x["price"] for x in record["bids"]) == sorted(prices)
    assert {x["organization"] for x in record["bids"]} == {o.name for o, _u in bidders}
    for bid in db.session.scalars(select(Bid).where(Bid.tender_id == tender.id)):
        assert bid.state == BidState.OPENED and bid.sealed_sha256 == receipts[bid.id]
        from procure.tenders.content import open_bundle
        assert open_bundle(tender, bid, verify=True)["proposal"] == PROPOSAL
    job = db.session.scalar(select(Job).where(Job.kind == events.OPENING_PDF))
    assert job is not None and job.params == {"tender_id": tender.id}
    assert audit.verify_chain().ok
    # nothing more is due: a second run does nothing
    assert events.apply_due_events() == []


def test_opening_record_pdf_job(db, make, monkeypatch):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    for _o, u in bidders:
        submitted_bid(tender, u)
    _opened_now(db, tender)
    events.apply_due_events()
    job = db.session.scalar(select(Job).where(Job.kind == events.OPENING_PDF))
    from procure.jobs.models import JobState
    from workers.tenders import opening_record
    if job.state == JobState.QUEUED:  # not sent eagerly after the commit
        assert opening_record.run(job.id) == "done"
    db.session.expire_all()
    assert db.session.get(Job, job.id).state == JobState.DONE
    doc = events.opening_document(db.session.get(Tender, tender.id))
    assert doc is not None and doc.content_type == "application/pdf"
    from procure.notifications.models import Notice
    told = set(db.session.scalars(select(Notice.user_id).where(Notice.rule == "tender.opened")))
    assert {u.id for _o, u in bidders} <= told


def test_tampered_bid_recorded_and_tender_fails(db, make):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    bids = [submitted_bid(tender, u) for _o, u in bidders]
    damaged = bytearray(bids[0].sealed_content)
    damaged[-1] ^= 1
    db.session.execute(sa.update(Bid).where(Bid.id == bids[0].id).values(sealed_content=bytes(damaged)))
    db.session.execute(sa.update(Bid).where(Bid.id == bids[1].id).values(sealed_sha256="0" * 64))
    _opened_now(db, tender)
    events.apply_due_events()
    db.session.expire_all()
    tender = db.session.get(Tender, tender.id)
    errors = {b.id: b.open_error for b in db.session.scalars(select(Bid).where(Bid.tender_id == tender.id))}
    assert errors[bids[0].id] and errors[bids[1].id] and errors[bids[2].id] is None
    assert tender.state == TenderState.FAILED and "3" in tender.reason  # 1 valid < 3
    assert tender.project.state == ProjectState.APPROVED  # can be tendered again
    assert sum(a.allocated for a in tender.project.allocations) == Decimal("80000.00")  # money still reserved
    again = published_tender(make, officer, tender.project)
    assert again.state == TenderState.PUBLISHED


def test_no_bids_fails(db, make):
    officer, project, _b = world(make)
    tender = published_tender(make, officer, project)
    _opened_now(db, tender)
    events.apply_due_events()
    db.session.expire_all()
    assert db.session.get(Tender, tender.id).state == TenderState.FAILED


def test_two_workers_open_once(app, db, make):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    for _o, u in bidders:
        submitted_bid(tender, u)
    _opened_now(db, tender)
    results, tender_id = [], tender.id

    def worker(_db):
        results.append(events.apply_event(tender_id))

    ok, refused = race(app, [worker, worker])
    assert sorted(results) == ["applied:opening", "not_due"]
    db.session.expire_all()
    n = db.session.scalar(select(sa.func.count()).select_from(audit.AuditEvent).where(
        audit.AuditEvent.action == "tender.opening_record"))
    assert n == 1
    assert db.session.scalar(select(sa.func.count()).select_from(Job)) == 1


def test_submit_races_the_opening(app, db, make, monkeypatch):
    """A submission and the opening at the same moment: either the bid is in the opening
    record, or it was refused — never accepted and left out."""
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    for _o, u in bidders[1:]:
        submitted_bid(tender, u)
    user = bidders[0][1]
    bid = bidding.save_bid(user, tender, bid_data("65000.00"))
    deadline = utcnow() + timedelta(seconds=1)
    move_times(db, tender, deadline=deadline, opening=deadline)
    db.session.commit()
    bid_id, tender_id = bid.id, tender.id

    user_id = user.id

    def submit(_db):
        from procure.auth.models import User
        bidding.submit_bid(_db.session.get(User, user_id), _db.session.get(Bid, bid_id))

    def open_(_db):
        import time
        while utcnow() < deadline:
            time.sleep(0.01)
        assert events.apply_event(tender_id).startswith("applied")

    ok, refused = race(app, [submit, open_])
    db.session.expire_all()
    b = db.session.get(Bid, bid_id)
    record = events.opening_record(db.session.get(Tender, tender_id))
    in_record = any(x["bid_id"] == bid_id for x in record["bids"])
    if 0 in ok:
        assert b.state == BidState.OPENED and in_record
    else:
        assert b.state == BidState.DRAFT and not in_record and refused


def test_withdraw_races_the_opening(app, db, make):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    bids = [submitted_bid(tender, u) for _o, u in bidders]
    deadline = utcnow() + timedelta(seconds=1)
    move_times(db, tender, deadline=deadline, opening=deadline)
    db.session.commit()
    user_id, bid_id, tender_id = bidders[0][1].id, bids[0].id, tender.id

    def withdraw(_db):
        from procure.auth.models import User
        bidding.withdraw_bid(_db.session.get(User, user_id), _db.session.get(Bid, bid_id))

    def open_(_db):
        import time
        while utcnow() < deadline:
            time.sleep(0.01)
        events.apply_event(tender_id)

    ok, refused = race(app, [withdraw, open_])
    db.session.expire_all()
    b = db.session.get(Bid, bid_id)
    record = events.opening_record(db.session.get(Tender, tender_id))
    in_record = any(x["bid_id"] == bid_id for x in record["bids"])
    assert (b.state == BidState.WITHDRAWN and not in_record) or (b.state == BidState.OPENED and in_record)
    assert (0 in ok) == (b.state == BidState.WITHDRAWN)


def test_master_key_missing_then_restored(app, db, make, tmp_path):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    for _o, u in bidders:
        submitted_bid(tender, u)
    _opened_now(db, tender)
    tender_id = tender.id
    keyless = create_app("testing", **app_config(MASTER_KEY=None, MASTER_KEY_FILE=str(tmp_path / "none.key")))
    with keyless.test_request_context(), force_locale("zh_CN"):
        out = events.apply_due_events()
        assert len(out) == 1 and out[0].startswith("waiting") and "主密钥" in out[0]
        from procure.extensions import db as kdb
        from procure.notifications.models import Notice
        assert kdb.session.scalar(select(Notice.id).where(Notice.rule == "tender.opening_blocked"))
        kdb.session.remove()
    db.session.expire_all()
    t = db.session.get(Tender, tender_id)
    assert t.state == TenderState.PUBLISHED and t.next_event is not None and t.opened_at is None
    assert all(b.state == BidState.SUBMITTED and b.sealed_content for b in t.bids)
    db.session.commit()
    assert events.apply_due_events() == ["applied:opening"]  # the key is back
    db.session.expire_all()
    assert db.session.get(Tender, tender_id).state == TenderState.CLOSED


def test_pg_dump_holds_no_price_or_proposal_before_the_opening(db, make):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    secret_price = "73456.78"
    secret_text = "绝密方案 ZQ-88123-unique"
    draft = bidding.save_bid(bidders[1][1], tender, bid_data("64321.09", "草稿秘密 DRAFT-55"))
    submitted_bid(tender, bidders[0][1], secret_price, secret_text)
    db.session.commit()
    url = sa.engine.make_url(session_database_url())
    env = dict(os.environ, PGPASSWORD=url.password or "")
    dump = subprocess.run([PG_DUMP, "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U",
                           url.username or "postgres", "--data-only", url.database],
                          capture_output=True, env=env, check=True).stdout
    assert b"INSERT" in dump or b"COPY" in dump
    for secret in (secret_price, secret_text, "64321.09", "草稿秘密", "DRAFT-55"):
        assert secret.encode() not in dump, secret
    assert draft.id


# --- time ----------------------------------------------------------------------------------

def _utc(y, m, d, hh=9, mm=0):
    return bidding.local_to_utc(datetime(y, m, d, hh, mm))


def test_periods_across_national_day_and_spring_festival(db, app):
    with app.test_request_context():
        # Inquiry: 3 working days. Published Monday 2025-09-29 09:00 Beijing time:
        # 30 Sep (1), then 1–8 Oct holidays, 11 Oct is a make-up working day (Saturday) (2), 9 Oct...
        end = bidding.period_after(_utc(2025, 9, 29), 3, "working_days")
        assert to_local(end).date() == date(2025, 10, 10)
        assert to_local(end).hour == 9  # same Beijing clock time
        # Spring Festival 2026 (15–23 Feb off, 14 and 28 Feb Saturdays worked): 5 working days
        # from Thursday 12 Feb: 13, 14 (make-up), 24, 25, 26 Feb.
        end = bidding.period_after(_utc(2026, 2, 12), 5, "working_days")
        assert to_local(end).date() == date(2026, 2, 26)
        # Calendar days ending inside National Day move to the first working day after it.
        end = bidding.period_after(_utc(2025, 9, 11), 20, "calendar_days")
        assert to_local(end).date() == date(2025, 10, 9)


def test_period_into_an_unknown_year_is_a_clear_message(db, app):
    with app.test_request_context(), force_locale("zh_CN"):
        with pytest.raises(CalendarNotEntered) as exc:
            bidding.period_after(_utc(2031, 12, 20), 20, "calendar_days")
        assert "2032" in str(exc.value.message) or "2031" in str(exc.value.message)
        assert isinstance(exc.value, DomainError)


def test_times_entered_in_beijing_stored_in_utc():
    assert bidding.local_to_utc(datetime(2026, 10, 8, 9, 0)) == datetime(2026, 10, 8, 1, 0)
    assert bidding.shown(datetime(2026, 10, 8, 1, 0)) == "2026-10-08 09:00"
    assert bidding.local_to_utc(datetime(2026, 1, 1, 3, 0)) == datetime(2025, 12, 31, 19, 0)
