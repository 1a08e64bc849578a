"""The committee: drawn at random from the evaluator pool of the service category,
replayable from its seed; composition rules; declarations; a conflicted member replaced
by the next backup; an unassigned evaluator sees nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from procure import audit, permissions
from procure.errors import Conflict, NotPermitted, ValidationError
from procure.notifications.models import Notice
from procure.roles import Role
from procure.tenders import evaluation as ev
from procure.tenders.models import CommitteeDraw, MemberState, Tender

from .evaluation_setup import en, evaluators, opened_tender

PRICES = ["80000.00", "90000.00", "95000.00"]


def test_the_draw_replays_from_its_seed(db, make):
    o = opened_tender(make, PRICES, pool=9, experts=6)
    other = make.category()
    evaluators(make, other, 3)  # another field: never in this pool
    make.user(Role.OFFICER)  # not an evaluator
    draw = ev.draw_committee(o.officer, o.tender)
    db.session.commit()
    stored = db.session.get(CommitteeDraw, draw.id)
    assert [p["user_id"] for p in stored.pool] == sorted(u.id for u in o.pool)
    assert stored.algorithm == ev.ALGORITHM and len(stored.seed) == 32
    # Replayed from what is stored (pool, seed, size): the same members and backups.
    assert ev.replay_draw(stored) == stored.result
    assert len(stored.result["members"]) == 5 and len(stored.result["backups"]) == 4
    # By hand: random.Random(seed).shuffle of the pool sorted by id, walked in order.
    import random

    order = [p["user_id"] for p in stored.pool]
    random.Random(stored.seed).shuffle(order)
    members = [m.user_id for m in ev.members_of(o.tender)]
    assert members == stored.result["members"]
    assert set(members) | set(stored.result["backups"]) == set(order)
    # A different seed gives (for this pool) another order; tampering shows.
    tampered = dict(stored.result, members=list(reversed(stored.result["members"])))
    assert ev.replay_draw(stored) != tampered
    # The draw is in the audit trail with its pool, seed and result.
    event = db.session.scalar(select(audit.AuditEvent).where(audit.AuditEvent.action == "committee.draw"))
    assert event.after["seed"] == stored.seed and event.after["result"] == stored.result
    assert event.after["pool"] == stored.pool


def test_two_seeds_two_orders(db, make):
    pool = [{"user_id": i, "is_expert": True} for i in range(1, 21)]
    a = ev.compute_draw(pool, "seed-a", 5, 4)
    assert a == ev.compute_draw(pool, "seed-a", 5, 4)
    assert a != ev.compute_draw(pool, "seed-b", 5, 4)


def test_composition_rules(db, make):
    o = opened_tender(make, PRICES, pool=9, experts=4)
    # public tender: at least 5, odd, at most 25; two thirds experts (5 → 4 experts).
    assert ev.composition(o.tender) == ev.Composition(5, 4)
    assert ev.composition(o.tender, "7") == ev.Composition(7, 5)
    for bad, words in (("3", "at least 5"), ("6", "odd"), ("27", "at most"), ("x", "whole number"),
                       ("9" * 400, "at most"), ("9" * 5000, "whole number")):
        with pytest.raises(ValidationError) as exc:
            ev.composition(o.tender, bad)
        assert words in en(exc.value.message)
    # Only 4 experts in the pool: a committee of 7 (5 experts) cannot be drawn.
    with pytest.raises(ValidationError) as exc:
        ev.draw_committee(o.officer, o.tender, "7")
    assert "4 experts" in en(exc.value.message)
    assert db.session.scalar(select(CommitteeDraw.id)) is None
    draw = ev.draw_committee(o.officer, o.tender, "5")
    members = ev.members_of(o.tender)
    assert len(members) == 5 and sum(m.is_expert for m in members) >= 4
    assert draw.size == 5
    with pytest.raises(Conflict):
        ev.draw_committee(o.officer, o.tender)


def test_pick_keeps_the_expert_share():
    # Non-experts first in the drawn order: only one may sit when 4 of 5 must be experts.
    ranked = [{"user_id": i, "is_expert": i > 3} for i in range(1, 10)]
    members, backups = ev.pick(ranked, 5, 4)
    assert members == [1, 4, 5, 6, 7]
    assert backups == [2, 3, 8, 9]


def test_declaration_and_the_next_backup(db, make):
    o = opened_tender(make, PRICES, pool=7)
    ev.draw_committee(o.officer, o.tender, seed="backup-seed")
    draw = ev.current_draw(o.tender)
    first, *rest = ev.members_of(o.tender)
    # Members see the bidder names (after the opening), no bid content before declaring.
    assert ev.bidder_names(o.tender) == sorted(org.name for org in o.orgs)
    assert not permissions.can(first.user, "tender.evaluate", o.tender)
    assert not permissions.can(first.user, "bid.view", o.bids[0])
    assert permissions.can(first.user, "tender.view", o.tender)
    # A conflict needs its note.
    with pytest.raises(ValidationError):
        ev.declare(first.user, o.tender, True, "  ")
    with pytest.raises(ValidationError):
        ev.declare(first.user, o.tender, True, "a\x00b")
    ev.declare(first.user, o.tender, True, "曾任评审测试组织A理事")
    db.session.commit()
    assert first.state == MemberState.CONFLICTED
    backup_user_id = draw.result["backups"][0]
    backup = ev.member_for(db.session.get(type(first.user), backup_user_id), o.tender)
    assert backup is not None and backup.is_backup and backup.position == 6
    assert first.replaced_by_id == backup.id
    assert not permissions.can(first.user, "tender.evaluate", o.tender)
    # The backup is told.
    assert db.session.scalar(select(Notice).where(Notice.user_id == backup_user_id,
                                                  Notice.rule == "tender.committee")) is not None
    # The others declare no conflict, then the backup: the committee is complete.
    for m in rest:
        ev.declare(m.user, o.tender, False)
    assert not ev.committee_complete(o.tender)
    ev.declare(backup.user, o.tender, False)
    assert ev.committee_complete(o.tender)
    assert permissions.can(backup.user, "tender.evaluate", o.tender)
    with pytest.raises(Conflict):
        ev.declare(backup.user, o.tender, False)
    # A conflicted member cannot declare again.
    with pytest.raises(NotPermitted):
        ev.declare(first.user, o.tender, False)


def test_no_backup_left_tells_the_officers(db, make):
    o = opened_tender(make, PRICES, pool=5)
    ev.draw_committee(o.officer, o.tender)
    m = ev.members_of(o.tender)[0]
    other_officer = make.user(Role.OFFICER, department=o.officer.department)
    ev.declare(m.user, o.tender, True, "利害关系")
    assert len(ev.members_of(o.tender, active_only=True)) == 4
    assert db.session.scalar(select(Notice).where(Notice.user_id == other_officer.id,
                                                  Notice.rule == "tender.committee_short")) is not None


def test_declaring_waits_for_the_opening(db, make):
    o = opened_tender(make, PRICES, pool=5)
    o.tender.opened_at = None
    db.session.flush()
    ev.draw_committee(o.officer, o.tender)
    m = ev.members_of(o.tender)[0]
    assert ev.bidder_names(o.tender) == []
    with pytest.raises(Exception) as exc:
        ev.declare(m.user, o.tender, False)
    assert "opened" in en(exc.value.message)


def test_only_the_department_draws(db, make):
    o = opened_tender(make, PRICES, pool=5)
    stranger = make.user(Role.OFFICER)
    with pytest.raises(NotPermitted):
        ev.draw_committee(stranger, o.tender)
    evaluator = o.pool[0]
    with pytest.raises(NotPermitted):
        ev.draw_committee(evaluator, o.tender)


def test_an_unassigned_evaluator_sees_nothing(db, make, client):
    from tests.conftest import login

    o = opened_tender(make, PRICES, pool=7)
    ev.draw_committee(o.officer, o.tender)
    seated = {m.user_id for m in ev.members_of(o.tender)}
    outsider = next(u for u in o.pool if u.id not in seated)
    insider = next(u for u in o.pool if u.id in seated)
    db.session.commit()
    # Lists: no tender, no bid, no committee row, no score.
    from procure.tenders.models import Bid, CommitteeMember, Score

    for action, model in (("tender.view", Tender), ("tender.evaluate", Tender), ("bid.view", Bid),
                          ("committee.view", CommitteeMember), ("score.view", Score)):
        assert db.session.scalars(permissions.visible(outsider, action, model)).all() == []
    # Pages.
    assert login(client, outsider.username).status_code == 302
    tid = o.tender.id
    for path in (f"/evaluation/tenders/{tid}/member", f"/evaluation/tenders/{tid}/committee",
                 f"/evaluation/tenders/{tid}/results", f"/evaluation/tenders/{tid}/outcome",
                 f"/evaluation/tenders/{tid}/challenges"):
        assert client.get(path).status_code == 403, path
    page = client.get("/evaluation/mine")
    assert page.status_code == 200 and o.tender.title not in page.get_data(as_text=True)
    assert client.post(f"/evaluation/tenders/{tid}/declare", data={"d-has_conflict": ""}).status_code == 403
    client = client.application.test_client()
    assert login(client, insider.username).status_code == 302
    page = client.get("/evaluation/mine").get_data(as_text=True)
    assert o.tender.title in page
    page = client.get(f"/evaluation/tenders/{tid}/member").get_data(as_text=True)
    assert o.orgs[0].name in page and "80,000" not in page and "80000" not in page and "方案正文" not in page
    assert client.post(f"/evaluation/tenders/{tid}/declare", data={"d-note": ""}).status_code == 302
    db.session.expire_all()
    assert db.session.scalars(permissions.visible(insider, "tender.evaluate", Tender)).all() == [o.tender]
