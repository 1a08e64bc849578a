"""Award, publicity and challenges: eligibility re-checked at award (each condition
failing alone, its own message), passing over a bid, the time events, challenges within
and after the window, finality, two officers awarding at once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from procure import audit
from procure.calendar import add_working_days
from procure.errors import Conflict, DomainError, InvalidTransition, NotPermitted, ValidationError
from procure.extensions import db as _db
from procure.jobs.models import Job
from procure.notifications.models import Notice
from procure.organizations.models import (
    AnnualReport,
    CreditEntry,
    CreditList,
    EntryState,
    OrgKind,
    Rating,
    RegStatus,
)
from procure.projects.models import ProjectState
from procure.roles import Role
from procure.tenders import award as aw
from procure.tenders import evaluation as ev
from procure.tenders.models import (
    AwardDecision,
    AwardDecisionKind,
    Bid,
    BidState,
    Challenge,
    ChallengeState,
    Tender,
    TenderEvent,
    TenderState,
)
from procure.timeutil import to_local, utcnow

from .evaluation_setup import en, evaluating, opened_tender, score_all

PRICES = ["80000.00", "100000.00", "90000.00"]


def ranked(make, **kw):
    """A tender under evaluation whose three bids are ranked B (1), A (2), C (3)."""
    o = opened_tender(make, PRICES, criteria=[("服务方案", "40", "100"), ("团队", "30", "30")], **kw)
    members = evaluating(make, o)
    table = [{0: {"服务方案": "80", "团队": "20"}, 1: {"服务方案": "90", "团队": "25"},
              2: {"服务方案": "85", "团队": "21"}} for _ in members]
    score_all(o, members, table)
    ev.rank_bids(o.officer, o.tender)
    assert [b.rank for b in o.bids] == [2, 1, 3]
    return o


def org_staff(make, org):
    return make.user(Role.ORG, organization=org)


# --- eligibility at award -------------------------------------------------------------------

def _break_status(org, tender):
    org.status = RegStatus.REVOKED


def _break_registered(org, tender):
    org.registration_date = to_local(utcnow()).date() - timedelta(days=100)


def _break_report(org, tender):
    _db.session.execute(AnnualReport.__table__.delete().where(AnnualReport.organization_id == org.id))


def _list(kind):
    def brk(org, tender):
        _db.session.add(CreditEntry(organization_id=org.id, list=kind, state=EntryState.LISTED,
                                    listed_on=date(2024, 5, 1), reason="测试"))
    return brk


def _break_rating(org, tender):
    tender.min_rating = 3
    _db.session.add(Rating(organization_id=org.id, level=2, rated_on=date(2023, 1, 1), expires_on=date(2028, 1, 1)))


def _break_filed(org, tender):
    org.kind = OrgKind.FILED


CONDITIONS = {
    "status": (_break_status, "registration is"),
    "registered": (_break_registered, "less than 1 year"),
    "annual_report": (_break_report, "annual report"),
    "abnormal": (_list(CreditList.ABNORMAL), "abnormal-activity list"),
    "serious": (_list(CreditList.SERIOUS), "serious dishonesty list"),
    "rating": (_break_rating, "at least 3A"),
    "filed": (_break_filed, "does not admit filed"),
}


@pytest.mark.parametrize("condition", sorted(CONDITIONS))
def test_eligibility_at_award_each_condition_alone(db, make, condition):
    o = ranked(make)
    db.session.commit()
    top = o.bids[1]
    brk, words = CONDITIONS[condition]
    assert aw.eligibility(o.tender, top.organization, to_local(utcnow()).date()) == []
    brk(top.organization, o.tender)
    db.session.flush()
    reasons = aw.eligibility(o.tender, top.organization, to_local(utcnow()).date())
    assert [r.code for r in reasons] == [condition]
    with force_locale("en"):
        assert words in str(reasons[0])
    with pytest.raises(ValidationError) as exc:
        aw.award_bid(o.officer, o.tender, top)
    with force_locale("en"):
        message = en(exc.value.message)
    assert words in message and top.organization.name in message
    for other, (_brk, other_words) in CONDITIONS.items():
        if other != condition and other_words not in words:
            assert other_words not in message, other
    db.session.rollback()
    assert db.session.get(Tender, o.tender.id).state == TenderState.EVALUATING
    assert db.session.scalar(select(func.count()).select_from(AwardDecision)) == 0


def test_the_tender_may_relax_a_condition(db, make):
    o = ranked(make)
    top = o.bids[1]
    _break_report(top.organization, o.tender)
    o.tender.require_annual_report = False
    db.session.flush()
    assert aw.eligibility(o.tender, top.organization, to_local(utcnow()).date()) == []


# --- the award decision ----------------------------------------------------------------------

def test_award_in_ranking_order_pass_over_with_reason(db, make):
    o = ranked(make)
    first, second, third = o.bids[1], o.bids[0], o.bids[2]
    with pytest.raises(ValidationError) as exc:
        aw.award_bid(o.officer, o.tender, second)
    assert first.organization.name in en(exc.value.message)
    with pytest.raises(ValidationError):
        aw.pass_over(o.officer, o.tender, first, " ")
    with pytest.raises(ValidationError):
        aw.pass_over(o.officer, o.tender, first, "a\x00b")
    aw.pass_over(o.officer, o.tender, first, "放弃中标资格")
    assert first.state == BidState.NOT_AWARDED
    assert aw.next_in_line(o.tender) == second
    stranger = make.user(Role.OFFICER)
    with pytest.raises(NotPermitted):
        aw.award_bid(stranger, o.tender, second)
    staff = org_staff(make, second.organization)
    other_staff = org_staff(make, third.organization)
    aw.award_bid(o.officer, o.tender, second)
    db.session.commit()
    t = db.session.get(Tender, o.tender.id)
    assert t.state == TenderState.AWARDED and t.awarded_bid_id == second.id
    assert (second.state, third.state) == (BidState.AWARDED, BidState.NOT_AWARDED)
    notice_day = to_local(t.award_notice_at).date()
    # Publicity: 1 working day (public tender); challenges: 7 working days, to the end of the day.
    assert to_local(t.publicity_ends_at).date() == add_working_days(notice_day, 1) + timedelta(days=1)
    assert to_local(t.challenge_ends_at).date() == add_working_days(notice_day, 7) + timedelta(days=1)
    assert to_local(t.challenge_ends_at).hour == 0
    assert (t.next_event, t.next_event_at) == (TenderEvent.PUBLICITY_END, t.publicity_ends_at)
    decisions = db.session.scalars(select(AwardDecision).order_by(AwardDecision.id)).all()
    assert [(d.bid_id, d.decision) for d in decisions] == [(first.id, AwardDecisionKind.SKIP),
                                                           (second.id, AwardDecisionKind.AWARD)]
    # The bidders are told the result.
    for u in (staff, other_staff):
        assert db.session.scalar(select(Notice).where(Notice.user_id == u.id, Notice.rule == "tender.result"))
    # The project is still tendering until the award is final.
    assert o.project.state == ProjectState.TENDERING


def test_every_bid_passed_over_fails_the_tender(db, make):
    o = ranked(make)
    for bid in sorted(o.bids, key=lambda b: b.rank):
        aw.pass_over(o.officer, o.tender, bid, "不符合要求")
    assert o.tender.state == TenderState.FAILED
    assert o.project.state == ProjectState.APPROVED


# --- time events and challenges -------------------------------------------------------------

def awarded(make):
    o = ranked(make)
    aw.award_bid(o.officer, o.tender, o.bids[1])
    return o


def test_the_time_events_and_finality_without_challenge(db, make):
    o = awarded(make)
    t = o.tender
    assert not aw.end_publicity(t, now=t.publicity_ends_at - timedelta(seconds=1))  # not due
    assert aw.end_publicity(t, now=t.publicity_ends_at)
    assert not aw.end_publicity(t, now=t.publicity_ends_at)  # idempotent
    assert (t.next_event, t.next_event_at) == (TenderEvent.CHALLENGE_END, t.challenge_ends_at)
    assert not aw.end_challenge_window(t, now=t.challenge_ends_at - timedelta(seconds=1))
    assert aw.end_challenge_window(t, now=t.challenge_ends_at)
    assert not aw.end_challenge_window(t, now=t.challenge_ends_at)
    assert t.state == TenderState.FINAL and t.next_event is None
    assert o.project.state == ProjectState.AWARDED
    assert db.session.scalar(select(Job).where(Job.kind == aw.NOTICE_JOB)) is not None
    assert aw.EVENT_HANDLERS[TenderEvent.PUBLICITY_END] is aw.end_publicity


def test_the_beat_dispatcher_applies_the_award_events(db, make):
    """The award's time events go through the one tender beat (events.apply_due_events):
    nothing before the publicity ends, then the window, then final — each once."""
    from procure.tenders import events

    o = awarded(make)
    db.session.commit()
    t_id, publicity, challenge = o.tender.id, o.tender.publicity_ends_at, o.tender.challenge_ends_at
    assert events.apply_due_events(publicity - timedelta(seconds=1)) == []
    assert events.apply_due_events(publicity) == ["applied:publicity_end"]
    assert events.apply_due_events(publicity) == []
    assert events.apply_due_events(challenge) == ["applied:challenge_end"]
    assert events.apply_due_events(challenge) == []
    tender = db.session.get(Tender, t_id)
    assert tender.state == TenderState.FINAL and tender.next_event is None


def test_a_challenge_blocks_finality_until_answered(db, make):
    o = awarded(make)
    t = o.tender
    loser = org_staff(make, o.bids[0].organization)
    officer2 = make.user(Role.OFFICER, department=o.officer.department)
    with pytest.raises(ValidationError):
        aw.lodge_challenge(loser, t, "  ")
    with pytest.raises(ValidationError):
        aw.lodge_challenge(loser, t, "理由\x00")
    with pytest.raises(ValidationError):
        aw.lodge_challenge(loser, t, "理由", [("a.pdf", "application/pdf", b"")])
    assert db.session.scalar(select(func.count()).select_from(Challenge)) == 0
    challenge = aw.lodge_challenge(loser, t, "评分不公：团队得分有误", [("证据.pdf", "application/pdf", b"%PDF-1.4 x")])
    db.session.commit()
    assert challenge.state == ChallengeState.OPEN
    assert to_local(challenge.answer_due_at).date() == add_working_days(to_local(challenge.lodged_at).date(), 7) \
        + timedelta(days=1)
    assert db.session.scalar(select(Notice).where(Notice.user_id == officer2.id, Notice.rule == "tender.challenge"))
    # An outsider (no bid on this call) cannot challenge.
    outsider = make.user(Role.ORG)
    with pytest.raises(NotPermitted):
        aw.lodge_challenge(outsider, t, "理由")
    aw.end_publicity(t, now=t.challenge_ends_at)
    # The window closes with the challenge open: not final.
    assert aw.end_challenge_window(t, now=t.challenge_ends_at)
    assert t.state == TenderState.AWARDED and t.next_event is None
    assert o.project.state == ProjectState.TENDERING
    # Another bidder cannot challenge after the window.
    late = org_staff(make, o.bids[2].organization)
    t.challenge_ends_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    with pytest.raises(InvalidTransition) as exc:
        aw.lodge_challenge(late, t, "迟到的质疑")
    assert "closed" in en(exc.value.message)
    # The answer: the organization is told and the award becomes final.
    with pytest.raises(ValidationError):
        aw.answer_challenge(o.officer, challenge, "")
    with pytest.raises(NotPermitted):
        aw.answer_challenge(make.user(Role.OFFICER), challenge, "答复")
    aw.answer_challenge(o.officer, challenge, "经复核，评分无误。")
    db.session.commit()
    assert challenge.state == ChallengeState.ANSWERED and challenge.answered_by_id == o.officer.id
    assert db.session.scalar(select(Notice).where(Notice.user_id == loser.id, Notice.rule == "tender.challenge"))
    t = db.session.get(Tender, t.id)
    assert t.state == TenderState.FINAL
    assert o.project.state == ProjectState.AWARDED
    with pytest.raises(InvalidTransition):
        aw.answer_challenge(o.officer, challenge, "再次答复")


def test_an_answered_challenge_within_the_window_leaves_the_window_running(db, make):
    o = awarded(make)
    t = o.tender
    loser = org_staff(make, o.bids[0].organization)
    challenge = aw.lodge_challenge(loser, t, "质疑理由")
    aw.answer_challenge(o.officer, challenge, "答复")
    assert t.state == TenderState.AWARDED  # the window is still open
    aw.end_publicity(t, now=t.challenge_ends_at)
    assert aw.end_challenge_window(t, now=t.challenge_ends_at)
    assert t.state == TenderState.FINAL


def test_the_award_history_is_audited(db, make):
    awarded(make)
    db.session.commit()
    actions = set(db.session.scalars(select(audit.AuditEvent.action)))
    assert {"committee.draw", "committee.declare_none", "bid.qualify", "tender.start_evaluation", "score.submit",
            "evaluation.rank", "bid.score", "bid.award", "bid.not_award", "tender.award"} <= actions


# --- two officers awarding at once -------------------------------------------------------------

def test_two_officers_award_at_once(app, db, make):
    from tests.threads import race

    o = ranked(make)
    officer2 = make.user(Role.OFFICER, department=o.officer.department)
    db.session.commit()
    tender_id, bid_id, ids = o.tender.id, o.bids[1].id, (o.officer.id, officer2.id)

    def award_as(uid):
        def fn(tdb):
            from procure.auth.models import User

            aw.award_bid(tdb.session.get(User, uid), tdb.session.get(Tender, tender_id), tdb.session.get(Bid, bid_id))
        return fn

    ok, refused = race(app, [award_as(ids[0]), award_as(ids[1])], refusal=DomainError)
    assert len(ok) == 1 and len(refused) == 1
    from procure.workflow import STALE

    assert refused[0][1] == "Conflict" and refused[0][2] == str(STALE)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AwardDecision)) == 1
    assert db.session.get(Tender, tender_id).state == TenderState.AWARDED


def test_two_officers_award_and_pass_over_at_once(app, db, make):
    from tests.threads import race

    o = ranked(make)
    officer2 = make.user(Role.OFFICER, department=o.officer.department)
    db.session.commit()
    tender_id, bid_id = o.tender.id, o.bids[1].id
    uid1, uid2 = o.officer.id, officer2.id

    def award_fn(tdb):
        from procure.auth.models import User

        aw.award_bid(tdb.session.get(User, uid1), tdb.session.get(Tender, tender_id), tdb.session.get(Bid, bid_id))

    def pass_fn(tdb):
        from procure.auth.models import User

        aw.pass_over(tdb.session.get(User, uid2), tdb.session.get(Tender, tender_id), tdb.session.get(Bid, bid_id),
                     "理由")

    ok, refused = race(app, [award_fn, pass_fn], refusal=Conflict)
    assert len(ok) == 1 and len(refused) == 1
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AwardDecision)) == 1


def test_end_challenge_window_by_two_workers(app, db, make):
    from tests.threads import race

    o = awarded(make)
    aw.end_publicity(o.tender, now=o.tender.challenge_ends_at)
    db.session.commit()
    tender_id, at = o.tender.id, o.tender.challenge_ends_at
    done = []

    def fn(tdb):
        done.append(aw.end_challenge_window(tdb.session.get(Tender, tender_id), now=at))

    ok, refused = race(app, [fn, fn])
    assert sorted(done) == [False, True] and refused == []
    db.session.expire_all()
    assert db.session.get(Tender, tender_id).state == TenderState.FINAL
    assert db.session.scalar(select(func.count()).select_from(Job).where(Job.kind == aw.NOTICE_JOB)) == 1
    assert len(ok) == 2
