"""The committee-member machine under concurrency (real threads on PostgreSQL): two
declarations of one member at once, a declaration against the officer's replacement;
the officer's replacement itself; the re-draw when the backups run out."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from procure import audit, permissions
from procure.errors import Conflict, InvalidTransition, NotPermitted, ValidationError
from procure.roles import Role
from procure.tenders import evaluation as ev
from procure.tenders.models import CommitteeDraw, CommitteeMember, MemberState, Tender
from procure.workflow import STALE

from .evaluation_setup import evaluators, opened_tender

PRICES = ["80000.00", "90000.00", "95000.00"]


def _drawn(make, db, pool=7):
    o = opened_tender(make, PRICES, pool=pool)
    ev.draw_committee(o.officer, o.tender, seed="race-seed")
    db.session.commit()
    return o


def _member_fn(tender_id, member_id, fn):
    def run(tdb):
        from procure.auth.models import User

        member = tdb.session.get(CommitteeMember, member_id)
        fn(tdb.session.get(User, member.user_id), tdb.session.get(Tender, tender_id), member, tdb)
    return run


def test_two_declarations_of_one_member_at_once(app, db, make):
    from tests.threads import race

    o = _drawn(make, db)
    first = ev.members_of(o.tender)[0]
    tid, mid = o.tender.id, first.id

    def none(user, tender, member, tdb):
        ev.declare(user, tender, False)

    def conflict(user, tender, member, tdb):
        ev.declare(user, tender, True, "曾任理事")

    ok, refused = race(app, [_member_fn(tid, mid, none), _member_fn(tid, mid, conflict)], refusal=Conflict)
    assert len(ok) == 1 and len(refused) == 1
    assert refused[0][1] == "Conflict" and refused[0][2] == str(STALE)
    db.session.expire_all()
    member = db.session.get(CommitteeMember, mid)
    # The winner's declaration stands whole: the member's state and the grant agree, one
    # backup at most (only when the conflict won).
    backups = db.session.scalar(select(func.count()).select_from(CommitteeMember).where(
        CommitteeMember.tender_id == tid, CommitteeMember.is_backup.is_(True)))
    if ok == [0]:
        assert member.state == MemberState.DECLARED and backups == 0
        assert permissions.can(member.user, "tender.evaluate", db.session.get(Tender, tid))
    else:
        assert member.state == MemberState.CONFLICTED and backups == 1
        assert not permissions.can(member.user, "tender.evaluate", db.session.get(Tender, tid))
    declared = db.session.scalar(select(func.count()).select_from(audit.AuditEvent).where(
        audit.AuditEvent.action.in_(["committee.declare_none", "committee.declare_conflict"])))
    assert declared == 1


def test_the_same_declaration_twice_at_once(app, db, make):
    from tests.threads import race

    o = _drawn(make, db)
    tid, mid = o.tender.id, ev.members_of(o.tender)[0].id

    def none(user, tender, member, tdb):
        ev.declare(user, tender, False)

    ok, refused = race(app, [_member_fn(tid, mid, none), _member_fn(tid, mid, none)], refusal=Conflict)
    assert len(ok) == 1 and [r[2] for r in refused] == [str(STALE)]
    db.session.expire_all()
    assert db.session.get(CommitteeMember, mid).state == MemberState.DECLARED


def test_a_declaration_against_the_replacement(app, db, make):
    from tests.threads import race

    o = _drawn(make, db)
    tid, mid, officer_id = o.tender.id, ev.members_of(o.tender)[0].id, o.officer.id

    def declare(user, tender, member, tdb):
        ev.declare(user, tender, False)

    def replace(user, tender, member, tdb):
        from procure.auth.models import User

        ev.replace_member(tdb.session.get(User, officer_id), tender, member, "联系不上")

    ok, refused = race(app, [_member_fn(tid, mid, declare), _member_fn(tid, mid, replace)], refusal=Conflict)
    assert len(ok) == 1 and len(refused) == 1 and refused[0][2] == str(STALE)
    db.session.expire_all()
    member = db.session.get(CommitteeMember, mid)
    backups = db.session.scalars(select(CommitteeMember).where(CommitteeMember.tender_id == tid,
                                                               CommitteeMember.is_backup.is_(True))).all()
    if ok == [0]:  # the declaration came first: the replacement was refused
        assert member.state == MemberState.DECLARED and backups == []
    else:
        assert member.state == MemberState.REPLACED and len(backups) == 1
        assert member.replaced_by_id == backups[0].id
        assert not permissions.can(member.user, "tender.view", db.session.get(Tender, tid))


def test_the_officer_replaces_a_member(db, make):
    o = opened_tender(make, PRICES, pool=6)
    draw = ev.draw_committee(o.officer, o.tender, seed="replace-seed")
    first = ev.members_of(o.tender)[0]
    with pytest.raises(ValidationError):
        ev.replace_member(o.officer, o.tender, first, " ")
    with pytest.raises(NotPermitted):
        ev.replace_member(make.user(Role.OFFICER), o.tender, first, "理由")
    with pytest.raises(NotPermitted):
        ev.replace_member(first.user, o.tender, first, "理由")
    ev.replace_member(o.officer, o.tender, first, "出差无法参加")
    assert first.state == MemberState.REPLACED
    backup = db.session.get(CommitteeMember, first.replaced_by_id)
    assert backup.user_id == draw.result["backups"][0] and backup.state == MemberState.DRAWN
    assert not permissions.can(first.user, "tender.view", o.tender)
    assert permissions.can(backup.user, "tender.view", o.tender)
    with pytest.raises(Conflict):
        ev.replace_member(o.officer, o.tender, first, "再次")
    # Once the evaluation has started no member is replaced.
    o.tender.state = o.tender.state.__class__.EVALUATING
    with pytest.raises(InvalidTransition):
        ev.replace_member(o.officer, o.tender, backup, "理由")


def test_the_backups_run_out_a_redraw_fills_the_seat(db, make):
    """Pool of 5 for 5 seats: no backup. New evaluators join the pool; a conflicted member's
    seat is filled by an additional draw from the pool (same rules), audited and
    replayable; when nobody is left the officers are told (the old dead end)."""
    o = opened_tender(make, PRICES, pool=5)
    ev.draw_committee(o.officer, o.tender, seed="short-seed")
    newcomers = evaluators(make, o.category, 2)
    first, second, *_ = ev.members_of(o.tender)
    ev.declare(first.user, o.tender, True, "利害关系")
    db.session.commit()
    redraws = ev.redraws(o.tender)
    assert len(redraws) == 1 and redraws[0].size == 1
    assert {p["user_id"] for p in redraws[0].pool} == {u.id for u in newcomers}
    assert ev.replay_draw(redraws[0]) == redraws[0].result
    seat = db.session.get(CommitteeMember, first.replaced_by_id)
    assert seat.user_id == redraws[0].result["members"][0] and seat.draw_id == redraws[0].id
    assert ev.current_draw(o.tender).size == 5  # the committee keeps its size
    event = db.session.scalar(select(audit.AuditEvent).where(audit.AuditEvent.action == "committee.redraw"))
    assert event is not None and event.after["replaces"] == first.id
    # The second leaves: the re-draw's own backup (the other newcomer) is called.
    ev.replace_member(o.officer, o.tender, second, "生病")
    other = db.session.get(CommitteeMember, second.replaced_by_id)
    assert other.user_id == ({u.id for u in newcomers} - {seat.user_id}).pop()
    assert db.session.scalar(select(func.count()).select_from(CommitteeDraw)) == 2
    # Nobody is left: no seat, the officers are told.
    third = ev.members_of(o.tender)[2]
    ev.replace_member(o.officer, o.tender, third, "退出")
    assert third.replaced_by_id is None
    assert len(ev.members_of(o.tender, active_only=True)) == 4
    assert db.session.scalar(select(func.count()).select_from(CommitteeDraw)) == 2


def test_a_redraw_keeps_the_expert_share(db, make):
    """4 of 5 must be experts (public tender, two thirds): an expert leaves when no backup
    is left; the re-draw takes only experts even though a non-expert joined first."""
    o = opened_tender(make, PRICES, pool=5, experts=4)
    ev.draw_committee(o.officer, o.tender, seed="expert-seed")
    need = ev.current_draw(o.tender).result["min_experts"]
    assert need >= 4
    evaluators(make, o.category, 1, experts=0)
    expert = evaluators(make, o.category, 1)[0]
    leaving = next(m for m in ev.members_of(o.tender) if m.is_expert)
    ev.declare(leaving.user, o.tender, True, "利害关系")
    seat = db.session.get(CommitteeMember, leaving.replaced_by_id)
    assert seat.user_id == expert.id and seat.is_expert
