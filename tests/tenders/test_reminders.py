"""Tendering's reminder rules, time-travelled with the engine's scan date: each fires on
its Beijing day, once, and reaches exactly the people it is for."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from procure.notifications.models import Notice, Notification
from procure.reminders import engine
from procure.roles import Role
from procure.tenders.models import (
    BidState,
    Challenge,
    ChallengeState,
    CommitteeMember,
    MemberState,
    Score,
    TenderState,
)

RULES = ["tender.bid_deadline", "tender.scores_waiting", "tender.challenge_answer", "tender.award_final"]


@pytest.fixture(autouse=True)
def exact_days(app, monkeypatch):
    monkeypatch.setitem(app.config, "REMINDER_CATCH_UP_DAYS", 0)  # exact days only (catch-up tested apart)


def scan(app, db, day, only=None):
    with app.test_request_context():
        counts = engine.scan(day, only=only or RULES)
        db.session.commit()
    return {rule: n for rule, n in counts.items() if n}  # reminders written by this scan


def sent(db, rule):
    """(recipient id, object id) of every email the rule wrote."""
    db.session.expire_all()
    return sorted((n.recipient_id, n.object_id) for n in db.session.scalars(
        sa.select(Notification).where(Notification.rule == rule)))


def test_bid_deadline_reaches_organizations_holding_an_unsubmitted_bid(app, db, make):
    officer = make.user(Role.OFFICER)
    # 2026-06-10 09:00 Beijing is 01:00 UTC
    tender = make.tender(officer, state=TenderState.PUBLISHED, opening_at=datetime(2026, 6, 10, 1, 0))
    late_night = make.tender(officer, state=TenderState.PUBLISHED, opening_at=datetime(2026, 6, 9, 16, 30))
    drafting, submitted, withdrawn, none = (make.organization() for _ in range(4))
    users = {org.id: make.user(Role.ORG, organization=org) for org in (drafting, submitted, withdrawn, none)}
    colleague = make.user(Role.ORG, organization=drafting)
    draft = make.bid(tender, drafting)
    make.bid(tender, submitted, state=BidState.SUBMITTED)
    back = make.bid(tender, withdrawn, state=BidState.WITHDRAWN)
    # 2026-06-10 00:30 in Beijing: also due on the 10th, though the 9th in UTC
    other = make.bid(late_night, submitted)
    make.commit()

    assert scan(app, db, date(2026, 6, 6)) == {}
    counts = scan(app, db, date(2026, 6, 7))
    assert counts == {"tender.bid_deadline": 4}
    assert sent(db, "tender.bid_deadline") == sorted([
        (users[drafting.id].id, str(draft.id)), (colleague.id, str(draft.id)),
        (users[withdrawn.id].id, str(back.id)), (users[submitted.id].id, str(other.id))])
    mail = db.session.scalar(sa.select(Notification).where(Notification.object_id == str(draft.id)))
    assert "2026-06-10 09:00" in mail.body_text and tender.title in mail.body_text
    assert "80000" not in mail.body_text and "80,000" not in mail.body_text
    assert f"/tenders/calls/{tender.id}/bid" in mail.body_text  # the bid form of their draft
    # once: the same day again, or the catch-up of the next days, writes nothing new
    assert scan(app, db, date(2026, 6, 7)) == {}
    app.config["REMINDER_CATCH_UP_DAYS"] = 2
    assert scan(app, db, date(2026, 6, 8)) == {}
    assert len(sent(db, "tender.bid_deadline")) == 4
    # nobody but the bidding organizations' staff was told
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notice).where(
        Notice.user_id == officer.id)) == 0


def test_a_closed_call_gets_no_deadline_reminder(app, db, make):
    officer = make.user(Role.OFFICER)
    tender = make.tender(officer, state=TenderState.PUBLISHED, opening_at=datetime(2026, 6, 10, 1, 0))
    org = make.organization()
    make.user(Role.ORG, organization=org)
    make.bid(tender, org)
    tender.state = TenderState.CANCELLED
    tender.reason = "项目调整"
    make.commit()
    assert scan(app, db, date(2026, 6, 7)) == {}


def _committee(make, db, tender, evaluator, *, declared_at, state=MemberState.DECLARED, position):
    member = CommitteeMember(tender_id=tender.id, user_id=evaluator.id, position=position, state=state,
                             declared_at=declared_at)
    db.session.add(member)
    db.session.flush()
    return member


def test_scores_waiting_two_days_reach_the_evaluator_who_has_not_submitted(app, db, make):
    officer = make.user(Role.OFFICER)
    opened_at = datetime(2026, 6, 10, 2, 0)  # 10:00 Beijing, 10 June
    tender = make.tender(officer, state=TenderState.CLOSED, opening_at=opened_at)
    tender.opened_at = opened_at
    bid = make.bid(tender, make.organization(), state=BidState.QUALIFIED)
    waiting, done, undeclared, late = (make.user(Role.EVALUATOR) for _ in range(4))
    m_waiting = _committee(make, db, tender, waiting, declared_at=datetime(2026, 6, 10, 2, 30), position=0)
    m_done = _committee(make, db, tender, done, declared_at=datetime(2026, 6, 10, 2, 30), position=1)
    _committee(make, db, tender, undeclared, declared_at=None, state=MemberState.DRAWN, position=2)
    # a backup called later declares on 11 June (Beijing): waiting from then
    m_late = _committee(make, db, tender, late, declared_at=datetime(2026, 6, 10, 17, 0), position=3)
    db.session.add(Score(member_id=m_done.id, bid_id=bid.id, criterion_id=tender.criteria[0].id, score=60,
                         submitted_at=datetime(2026, 6, 11, 1, 0)))
    # a draft score (not submitted) does not count as submitted
    db.session.add(Score(member_id=m_waiting.id, bid_id=bid.id, criterion_id=tender.criteria[0].id, score=50))
    make.commit()

    assert scan(app, db, date(2026, 6, 11)) == {}
    assert scan(app, db, date(2026, 6, 12)) == {"tender.scores_waiting": 1}
    assert sent(db, "tender.scores_waiting") == [(waiting.id, str(m_waiting.id))]
    assert scan(app, db, date(2026, 6, 13)) == {"tender.scores_waiting": 1}
    assert sent(db, "tender.scores_waiting") == sorted([(waiting.id, str(m_waiting.id)), (late.id, str(m_late.id))])
    assert scan(app, db, date(2026, 6, 12)) == {}  # once
    note = db.session.scalar(sa.select(Notice).where(Notice.user_id == waiting.id))
    assert tender.title in note.text and note.link == f"/evaluation/tenders/{tender.id}/member"


def _awarded(make, db, officer, state=TenderState.AWARDED, **times):
    tender = make.tender(officer, state=TenderState.CLOSED, opening_at=datetime(2026, 6, 1, 2, 0))
    tender.opened_at = datetime(2026, 6, 1, 2, 0)
    bid = make.bid(tender, make.organization(), state=BidState.AWARDED)
    tender.state, tender.awarded_bid_id, tender.award_notice_at = state, bid.id, datetime(2026, 6, 20, 2, 0)
    for key, value in times.items():
        setattr(tender, key, value)
    db.session.flush()
    return tender


def test_a_challenge_to_answer_reaches_the_officers_of_the_department(app, db, make):
    officer = make.user(Role.OFFICER)
    colleague = make.user(Role.OFFICER, department=officer.department)
    stranger = make.user(Role.OFFICER)
    tender = _awarded(make, db, officer)
    org_user = make.user(Role.ORG)
    due = datetime(2026, 7, 1, 8, 0)  # 16:00 Beijing, 1 July
    open_ = Challenge(tender_id=tender.id, organization_id=org_user.organization_id, reason="评分不公",
                      lodged_by_id=org_user.id, answer_due_at=due)
    answered = Challenge(tender_id=tender.id, organization_id=org_user.organization_id, reason="资格",
                         lodged_by_id=org_user.id, answer_due_at=due, state=ChallengeState.ANSWERED,
                         answer="已答复", answered_at=datetime(2026, 6, 25, 2, 0))
    db.session.add_all([open_, answered])
    make.commit()

    assert scan(app, db, date(2026, 6, 27)) == {}
    assert scan(app, db, date(2026, 6, 28)) == {"tender.challenge_answer": 2}  # 3 days before
    assert sent(db, "tender.challenge_answer") == sorted([(officer.id, str(open_.id)), (colleague.id, str(open_.id))])
    assert scan(app, db, date(2026, 6, 29)) == {}
    assert scan(app, db, date(2026, 6, 30)) == {"tender.challenge_answer": 2}  # 1 day before
    assert scan(app, db, date(2026, 6, 30)) == {}
    assert stranger.id not in {r for r, _ in sent(db, "tender.challenge_answer")}
    mail = db.session.scalar(sa.select(Notification).where(Notification.rule == "tender.challenge_answer"))
    assert "2026-07-01 16:00" in mail.body_text
    note = db.session.scalar(sa.select(Notice).where(Notice.rule == "tender.challenge_answer"))
    assert note.link == f"/evaluation/tenders/{tender.id}/challenges"


def test_award_final_tells_the_officers_once(app, db, make):
    officer = make.user(Role.OFFICER)
    other_dep = make.user(Role.OFFICER)
    final = _awarded(make, db, officer, state=TenderState.FINAL, challenge_ends_at=datetime(2026, 7, 10, 9, 0))
    _awarded(make, db, officer, challenge_ends_at=datetime(2026, 7, 10, 9, 0))  # still under publicity
    make.commit()
    assert scan(app, db, date(2026, 7, 9)) == {}
    assert scan(app, db, date(2026, 7, 10)) == {"tender.award_final": 1}
    assert sent(db, "tender.award_final") == [(officer.id, str(final.id))]
    assert scan(app, db, date(2026, 7, 11)) == {}  # once, though it is still final the next day
    assert other_dep.id not in {r for r, _ in sent(db, "tender.award_final")}
    note = db.session.scalar(sa.select(Notice).where(Notice.rule == "tender.award_final"))
    assert note.link == f"/tenders/{final.id}"


def test_the_rules_are_on_the_notices_page_of_their_readers(app):
    from procure.notifications.services import TOPICS

    assert TOPICS["tender.scores_waiting"].roles == {Role.EVALUATOR}
    assert TOPICS["tender.bid_deadline"].roles == {Role.ORG}
    assert TOPICS["tender.challenge_answer"].is_critical
