"""Tendering's reminder rules (issue 9 item 10), registered with the generic engine
(``procure.reminders.engine``); found at start-up by ``modules.submodules("reminders")``.

- ``tender.bid_deadline``: the bid deadline is N days away (policy
  ``reminder.bid_deadline_days``) → the staff of each organization holding a bid it has
  not submitted (a draft, or withdrawn and not submitted again). Nobody else: a
  reminder about a bid goes only to its own organization.
- ``tender.scores_waiting``: N days (``reminder.evaluation_waiting_days``) after the
  opening — or after the member's declaration, when that came later — a committee member
  who declared no conflict has not submitted scores → that evaluator.
- ``tender.challenge_answer``: an open challenge whose answer is due in N days
  (``reminder.challenge_answer_days``) → the officers of the tender's department.
- ``tender.award_final``: the award became final → the officers of the department, to
  draft the contract.

Days are Beijing days: a deadline at 2026-03-10 09:00 (Beijing) is due on 2026-03-10.
The engine writes each reminder at most once per rule, offset, object, due date and
recipient."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select

from ..auth.models import User, UserStatus
from ..extensions import db
from ..reminders.engine import Due, ReminderRule, org_users, register
from ..roles import Role
from ..timeutil import SHANGHAI, to_local
from .models import Bid, BidState, Challenge, ChallengeState, CommitteeMember, MemberState, Score, Tender, TenderState

#: How far back (days) the award-final rule looks for tenders that became final: the
#: end of the challenge window is its due date, and an award becomes final at the
#: latest when the last challenge is answered (7 working days after it was lodged).
AWARD_FINAL_LOOKBACK_DAYS = 30
#: Bids an organization holds but has not (or no longer) submitted.
UNSUBMITTED = (BidState.DRAFT, BidState.WITHDRAWN)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The Beijing day ``day`` as naive-UTC [start, end)."""
    begin = datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)
    return begin, begin + timedelta(days=1)


def local_date(at: datetime) -> date:
    return to_local(at).date()


def shown(at: datetime | None) -> str:
    """A stored time as Beijing time, for a message."""
    return to_local(at).strftime("%Y-%m-%d %H:%M") if at is not None else ""


def department_officers(department_ids: Iterable[int]) -> dict[int, list]:
    """Active officers of each department, in one query."""
    ids = sorted(set(department_ids))
    out: dict[int, list] = {}
    if not ids:
        return out
    for user in db.session.scalars(select(User).where(User.department_id.in_(ids), User.role == Role.OFFICER,
                                                      User.status == UserStatus.ACTIVE).order_by(User.id)):
        out.setdefault(user.department_id, []).append(user)
    return out


def _bid_deadline(today: date, offsets: tuple) -> Iterable[tuple[int, Due]]:
    for offset in offsets:
        if offset <= 0:
            continue
        day = today + timedelta(days=offset)
        begin, end = day_bounds(day)
        rows = db.session.execute(
            select(Bid.id, Bid.organization_id, Tender.id, Tender.title, Tender.deadline_at)
            .join(Tender, Tender.id == Bid.tender_id)
            .where(Tender.state == TenderState.PUBLISHED, Tender.deadline_at >= begin, Tender.deadline_at < end,
                   Bid.state.in_(UNSUBMITTED))
            .order_by(Bid.id)).all()
        users = org_users([r[1] for r in rows])
        for bid_id, org_id, tender_id, title, deadline in rows:
            if org_id in users:
                yield offset, Due("bids", bid_id, day, {"org": users[org_id]}, "tenders.bid_form",
                                  {"tender_id": tender_id},
                                  {"title": title, "deadline": shown(deadline), "due": day})


def _scores_waiting(today: date, offsets: tuple) -> Iterable[tuple[int, Due]]:
    submitted = exists().where(Score.member_id == CommitteeMember.id, Score.submitted_at.is_not(None))
    for offset in offsets:
        days = abs(offset)
        day = today - timedelta(days=days)
        begin, end = day_bounds(day)
        rows = db.session.execute(
            select(CommitteeMember.id, CommitteeMember.declared_at, Tender.id, Tender.title, Tender.opened_at, User)
            .join(Tender, Tender.id == CommitteeMember.tender_id).join(User, User.id == CommitteeMember.user_id)
            .where(Tender.state.in_((TenderState.CLOSED, TenderState.EVALUATING)), Tender.opened_at.is_not(None),
                   CommitteeMember.state == MemberState.DECLARED, ~submitted,
                   User.status == UserStatus.ACTIVE, User.role == Role.EVALUATOR,
                   Tender.opened_at < end, CommitteeMember.declared_at < end,
                   or_(Tender.opened_at >= begin, CommitteeMember.declared_at >= begin))
            .order_by(CommitteeMember.id)).all()
        for member_id, declared_at, tender_id, title, opened_at, user in rows:
            # waiting since the later of the opening and the member's declaration
            since = max(opened_at, declared_at)
            if local_date(since) != day:
                continue
            yield -days, Due("committee_members", member_id, day, {"evaluator": [user]}, "evaluation.member",
                                   {"tender_id": tender_id},
                             {"title": title, "since": shown(since), "due": day})


def _challenge_answer(today: date, offsets: tuple) -> Iterable[tuple[int, Due]]:
    for offset in offsets:
        if offset < 0:
            continue
        day = today + timedelta(days=offset)
        begin, end = day_bounds(day)
        rows = db.session.execute(
            select(Challenge.id, Challenge.answer_due_at, Tender.id, Tender.title, Tender.department_id)
            .join(Tender, Tender.id == Challenge.tender_id)
            .where(Challenge.state == ChallengeState.OPEN, Challenge.answer_due_at >= begin,
                   Challenge.answer_due_at < end)
            .order_by(Challenge.id)).all()
        staff = department_officers(r[4] for r in rows)
        for challenge_id, due_at, tender_id, title, dep_id in rows:
            if staff.get(dep_id):
                yield offset, Due("challenges", challenge_id, day, {"officer": staff[dep_id]}, "evaluation.challenges",
                                  {"tender_id": tender_id},
                                  {"title": title, "answer_due": shown(due_at), "due": day})


def _award_final(today: date, offsets: tuple) -> Iterable[tuple[int, Due]]:
    """Tenders whose award is final: one reminder each (its due date is the end of the
    challenge window, which never moves once the award is published)."""
    for offset in offsets:
        _begin, end = day_bounds(today)
        first, _ = day_bounds(today - timedelta(days=AWARD_FINAL_LOOKBACK_DAYS))
        rows = db.session.execute(
            select(Tender.id, Tender.title, Tender.department_id, Tender.challenge_ends_at)
            .where(Tender.state == TenderState.FINAL, Tender.challenge_ends_at.is_not(None),
                   and_(Tender.challenge_ends_at >= first, Tender.challenge_ends_at < end))
            .order_by(Tender.id)).all()
        staff = department_officers(r[2] for r in rows)
        for tender_id, title, dep_id, ends in rows:
            if staff.get(dep_id):
                yield offset, Due("tenders", tender_id, local_date(ends), {"officer": staff[dep_id]}, "tenders.detail",
                                  {"tender_id": tender_id}, {"title": title, "due": local_date(ends)})


register(ReminderRule(
    "tender.bid_deadline", _l("Bid deadline approaching"), "reminder_bid_deadline", "reminder.bid_deadline_days",
    _bid_deadline, recipients=("org",)))
register(ReminderRule(
    "tender.scores_waiting", _l("Scores waiting for the evaluator"), "reminder_scores_waiting",
    "reminder.evaluation_waiting_days", _scores_waiting, recipients=("evaluator",)))
register(ReminderRule(
    "tender.challenge_answer", _l("Challenge waiting for an answer"), "reminder_challenge_answer",
    "reminder.challenge_answer_days", _challenge_answer, recipients=("officer",), is_critical=True))
register(ReminderRule(
    "tender.award_final", _l("Award final: draft the contract"), "reminder_award_final", None, _award_final,
    recipients=("officer",), default_offsets=(0,)))
