"""Challenges (质疑) upheld with their remedy — evaluate again, or the tender fails — and
dismissed; the other open challenges to an award set aside are closed, their challengers
told why; the award stays unsigned while a challenge is open; two answers to one
challenge at once, and two officers answering two challenges to one award at once (real
threads on PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from procure import audit
from procure.contracts import services as cs
from procure.errors import Conflict, InvalidTransition, ValidationError
from procure.notifications.models import Notice
from procure.projects.models import ProjectState
from procure.roles import Role
from procure.tenders import award as aw
from procure.tenders import evaluation as ev
from procure.tenders.models import (
    AwardDecision,
    BidState,
    Challenge,
    ChallengeRemedy,
    ChallengeState,
    Score,
    Tender,
    TenderState,
)
from procure.timeutil import utcnow
from procure.workflow import STALE

from .evaluation_setup import en
from .test_award import awarded, org_staff


def _challenged(make):
    o = awarded(make)
    loser = org_staff(make, o.bids[0].organization)
    challenge = aw.lodge_challenge(loser, o.tender, "评分汇总有误")
    return o, loser, challenge


def test_an_upheld_challenge_needs_its_remedy(db, make):
    o, _loser, challenge = _challenged(make)
    with pytest.raises(ValidationError) as exc:
        aw.answer_challenge(o.officer, challenge, "质疑成立", upheld=True)
    assert "remedy" in en(exc.value.message)
    with pytest.raises(ValidationError):
        aw.answer_challenge(o.officer, challenge, "质疑成立", upheld=True, remedy="nonsense")
    with pytest.raises(ValidationError):
        aw.answer_challenge(o.officer, challenge, "驳回", remedy="retender")
    assert challenge.state == ChallengeState.OPEN and o.tender.state == TenderState.AWARDED


def test_upheld_evaluate_again(db, make):
    o, loser, challenge = _challenged(make)
    members = ev.members_of(o.tender, active_only=True)
    aw.answer_challenge(o.officer, challenge, "经复核，汇总计算错误，重新评审。", upheld=True, remedy="reevaluate")
    db.session.commit()
    t = db.session.get(Tender, o.tender.id)
    assert challenge.state == ChallengeState.UPHELD and challenge.remedy == ChallengeRemedy.REEVALUATE
    assert t.state == TenderState.EVALUATING
    assert t.awarded_bid_id is None and t.award_notice_at is None and t.next_event is None
    assert [b.state for b in o.bids] == [BidState.QUALIFIED] * 3
    assert all(b.total_score is None and b.rank is None for b in o.bids)
    assert db.session.scalar(select(func.count()).select_from(AwardDecision)) == 0
    assert db.session.scalar(select(func.count()).select_from(Score).where(Score.submitted_at.is_not(None))) == 0
    assert o.project.state == ProjectState.TENDERING
    actions = list(db.session.scalars(select(audit.AuditEvent.action).order_by(audit.AuditEvent.seq)))
    assert {"challenge.uphold", "award.set_aside", "tender.reevaluate", "bid.reevaluate"} <= set(actions)
    # Told: the challenger (the answer), the other bidders, the committee (score again).
    assert db.session.scalar(select(Notice).where(Notice.user_id == loser.id, Notice.rule == "tender.challenge"))
    other = org_staff(make, o.bids[2].organization)
    assert other is not None
    assert db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.rule == "tender.scoring", Notice.user_id.in_([m.user_id for m in members]))) >= 2 * len(members)
    # The committee scores again, the officer ranks and awards anew.
    for m in members:
        values = {(b.id, c.id): "20" for b in o.bids for c in ev.scoring_criteria(t)}
        ev.save_scores(m.user, t, values, submit=True)
    ev.rank_bids(o.officer, t)
    top = ev.results(t, members)[0].bid
    aw.award_bid(o.officer, t, top)
    assert t.state == TenderState.AWARDED and t.awarded_bid_id == top.id
    # The first challenge stays answered; finality needs the new window to close.
    assert aw.open_challenges(t) == 0


def test_upheld_the_tender_fails(db, make):
    o, _loser, challenge = _challenged(make)
    aw.answer_challenge(o.officer, challenge, "质疑成立，采购失败，重新组织采购。", upheld=True, remedy="retender")
    db.session.commit()
    t = db.session.get(Tender, o.tender.id)
    assert t.state == TenderState.FAILED and "重新组织采购" in t.reason
    assert o.project.state == ProjectState.APPROVED  # tendered again
    assert o.bids[1].state == BidState.NOT_AWARDED
    assert {"challenge.uphold", "tender.fail", "bid.set_aside"} <= set(db.session.scalars(
        select(audit.AuditEvent.action)))
    with pytest.raises(InvalidTransition):
        cs.draft_contract(o.officer, t, None)


def test_upheld_only_while_the_award_is_under_publicity(db, make):
    o, loser, challenge = _challenged(make)
    second = aw.lodge_challenge(org_staff(make, o.bids[2].organization), o.tender, "另一质疑")
    aw.answer_challenge(o.officer, challenge, "重新评审", upheld=True, remedy="reevaluate")
    # The other challenge was closed with the award it contests: nothing left to answer.
    assert second.state == ChallengeState.CLOSED
    with pytest.raises(InvalidTransition):
        aw.answer_challenge(o.officer, second, "也成立", upheld=True, remedy="retender")
    with pytest.raises(InvalidTransition):
        aw.answer_challenge(o.officer, second, "已随前一质疑重新评审")
    assert second.state == ChallengeState.CLOSED


def test_the_award_stays_unsigned_while_a_challenge_is_open(db, make):
    """The window closes with a challenge open: not final, so no contract can be drafted."""
    o, _loser, challenge = _challenged(make)
    t = o.tender
    aw.end_publicity(t, now=t.challenge_ends_at)
    assert aw.end_challenge_window(t, now=t.challenge_ends_at)
    assert t.state == TenderState.AWARDED
    with pytest.raises(InvalidTransition) as exc:
        cs.draft_contract(o.officer, t, None)
    assert "not final" in en(exc.value.message)
    t.challenge_ends_at = utcnow() - timedelta(seconds=1)
    aw.answer_challenge(o.officer, challenge, "驳回")
    assert t.state == TenderState.FINAL


def test_the_answer_page_upholds(client, db, make):
    from procure.extensions import limiter
    from tests.conftest import login

    o, _loser, challenge = _challenged(make)
    db.session.commit()
    limiter.reset()
    assert login(client, o.officer.username).status_code == 302
    url = f"/evaluation/challenges/{challenge.id}/answer"
    page = client.get(f"/evaluation/tenders/{o.tender.id}/challenges")
    assert page.status_code == 200 and b'name="a%d-remedy"' % challenge.id in page.data
    bad = client.post(url, data={f"a{challenge.id}-answer": "成立", f"a{challenge.id}-outcome": "upheld"})
    assert bad.status_code == 400
    ok = client.post(url, data={f"a{challenge.id}-answer": "成立", f"a{challenge.id}-outcome": "upheld",
                                f"a{challenge.id}-remedy": "reevaluate"})
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(Challenge, challenge.id).state == ChallengeState.UPHELD
    page = client.get(f"/evaluation/tenders/{o.tender.id}/challenges")
    assert b'class="remedy"' in page.data


def test_two_answers_at_once(app, db, make):
    """Two officers answer one challenge at once (one dismisses, one upholds): one wins,
    the other is told someone else changed it first and to reload."""
    from tests.threads import race

    o, _loser, challenge = _challenged(make)
    officer2 = make.user(Role.OFFICER, department=o.officer.department)
    db.session.commit()
    cid, uids = challenge.id, (o.officer.id, officer2.id)

    def answer_as(uid, **kw):
        def fn(tdb):
            from procure.auth.models import User

            aw.answer_challenge(tdb.session.get(User, uid), tdb.session.get(Challenge, cid), "答复", **kw)
        return fn

    ok, refused = race(app, [answer_as(uids[0]), answer_as(uids[1], upheld=True, remedy="reevaluate")],
                       refusal=Conflict)
    assert len(ok) == 1 and len(refused) == 1
    assert refused[0][1] == "Conflict" and refused[0][2] == str(STALE)
    db.session.expire_all()
    row = db.session.get(Challenge, cid)
    assert row.answered_by_id == uids[ok[0]]
    answers = db.session.scalar(select(func.count()).select_from(audit.AuditEvent).where(
        audit.AuditEvent.action.in_(["challenge.answer", "challenge.uphold"])))
    assert answers == 1
    tender = db.session.get(Tender, o.tender.id)
    assert tender.state == (TenderState.AWARDED if ok == [0] else TenderState.EVALUATING)


def _two_challenges(make):
    o = awarded(make)
    first_user = org_staff(make, o.bids[0].organization)
    second_user = org_staff(make, o.bids[2].organization)
    first = aw.lodge_challenge(first_user, o.tender, "评分汇总有误")
    second = aw.lodge_challenge(second_user, o.tender, "中标人资格存疑")
    return o, (first, first_user), (second, second_user)


@pytest.mark.parametrize("remedy", ["reevaluate", "retender"])
def test_upholding_one_closes_the_other_open_challenges(db, make, remedy):
    from procure.notifications.models import Notification

    o, (first, first_user), (second, second_user) = _two_challenges(make)
    third_user = org_staff(make, o.bids[1].organization)  # the winner's own staff did not challenge
    aw.answer_challenge(o.officer, first, "质疑成立", upheld=True, remedy=remedy)
    db.session.commit()
    db.session.expire_all()
    closed = db.session.get(Challenge, second.id)
    assert db.session.get(Challenge, first.id).state == ChallengeState.UPHELD
    assert closed.state == ChallengeState.CLOSED and closed.remedy is None
    assert closed.answered_by_id == o.officer.id and closed.answered_at is not None
    assert "所质疑的中标结果已撤销" in closed.answer  # the answer says why (in the default language)
    assert aw.open_challenges(db.session.get(Tender, o.tender.id)) == 0
    # Audited: one close, pointing at the upheld challenge, with the answer.
    events = list(db.session.scalars(select(audit.AuditEvent).where(audit.AuditEvent.action == "challenge.close")))
    assert len(events) == 1 and events[0].object_id == str(second.id)
    assert events[0].after["upheld_challenge_id"] == first.id and events[0].after["state"] == "closed"
    # The closed challenge's challenger is told (in-app and email), with the answer.
    assert db.session.scalar(select(Notice).where(Notice.user_id == second_user.id,
                                                  Notice.rule == "tender.challenge")) is not None
    email = db.session.scalar(select(Notification).where(Notification.recipient_id == second_user.id,
                                                         Notification.rule == "tender.challenge"))
    assert email is not None and closed.answer in email.body_text
    assert db.session.scalar(select(Notice).where(Notice.user_id == third_user.id,
                                                  Notice.rule == "tender.challenge")) is None


def test_a_dismissed_challenge_stays_dismissed_when_another_is_upheld(db, make):
    o, (first, _u1), (second, _u2) = _two_challenges(make)
    aw.answer_challenge(o.officer, second, "驳回：资格审查无误")
    aw.answer_challenge(o.officer, first, "质疑成立", upheld=True, remedy="reevaluate")
    assert second.state == ChallengeState.ANSWERED and second.answer == "驳回：资格审查无误"
    assert db.session.scalar(select(func.count()).select_from(audit.AuditEvent).where(
        audit.AuditEvent.action == "challenge.close")) == 0


def test_two_officers_answer_two_challenges_at_once(app, db, make):
    """One officer upholds a challenge while another dismisses the other challenge to the
    same award (real threads on PostgreSQL). Whichever commits first, the end is
    consistent: no challenge left open, the call back in evaluation, each challenge moved
    once and audited once; when the upholding came first the dismissal is refused as a
    change by someone else (the challenge was closed meanwhile)."""
    from tests.threads import race

    o, (first, _u1), (second, u2) = _two_challenges(make)
    officer2 = make.user(Role.OFFICER, department=o.officer.department)
    db.session.commit()
    ids, uids = (first.id, second.id), (o.officer.id, officer2.id)

    def answer_as(uid, cid, text, **kw):
        def fn(tdb):
            from procure.auth.models import User

            aw.answer_challenge(tdb.session.get(User, uid), tdb.session.get(Challenge, cid), text, **kw)
        return fn

    ok, refused = race(app, [answer_as(uids[0], ids[0], "质疑成立", upheld=True, remedy="reevaluate"),
                             answer_as(uids[1], ids[1], "驳回")], refusal=Conflict)
    assert 0 in ok
    db.session.expire_all()
    up, other = db.session.get(Challenge, ids[0]), db.session.get(Challenge, ids[1])
    tender = db.session.get(Tender, o.tender.id)
    assert up.state == ChallengeState.UPHELD and tender.state == TenderState.EVALUATING
    assert aw.open_challenges(tender) == 0
    moves = dict(db.session.execute(select(audit.AuditEvent.object_id, func.count()).where(
        audit.AuditEvent.action.in_(["challenge.answer", "challenge.uphold", "challenge.close"]))
        .group_by(audit.AuditEvent.object_id)).all())
    assert moves == {str(ids[0]): 1, str(ids[1]): 1}
    if ok == [0]:  # the upholding first: the other closed, its dismissal refused
        assert refused == [(1, "Conflict", str(STALE))]
        assert other.state == ChallengeState.CLOSED and other.answered_by_id == uids[0]
        assert db.session.scalar(select(Notice).where(Notice.user_id == u2.id, Notice.rule == "tender.challenge"))
    else:  # the dismissal first: it stands, nothing was left to close
        assert sorted(ok) == [0, 1] and refused == []
        assert other.state == ChallengeState.ANSWERED and other.answered_by_id == uids[1]
