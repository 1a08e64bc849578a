"""Award, publicity and challenges (DOMAIN.md §5, issue 9 item 8).

The officer awards the top-ranked bid, or passes over it with the reason (an
``AwardDecision`` of kind skip) and moves to the next; the organization's eligibility is
checked again at award. The award notice opens the publicity period (policy working
days) and the challenge window (质疑, policy working days from the notice); a bidder may
lodge a challenge within the window, the officer answers within the answer period. The
award is final when the window has closed and no challenge is open: the tender → final,
the project → awarded, the winner gets the notice of award (a PDF rendered by a worker),
the others the result.

Time events (applied by the tender beat, part A's dispatcher): :func:`end_publicity` for
``TenderEvent.PUBLICITY_END`` and :func:`end_challenge_window` for
``TenderEvent.CHALLENGE_END``; both idempotent (a second call, or a call before the
time, changes nothing and returns False).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask_babel import LazyString, force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from .. import audit, calendar, permissions, policy
from ..documents.services import store_document
from ..errors import Conflict, InvalidTransition, NotPermitted, ValidationError
from ..extensions import db
from ..jobs import services as jobs
from ..organizations.models import Organization
from ..organizations.services import Reason, eligibility_for_call
from ..pdf import render_pdf
from ..permissions import ADMIN, own_department, own_organization, related, require, role_in
from ..projects.models import PROJECT_MACHINE, ProcurementMethod, Project, ProjectState
from ..roles import Role
from ..timeutil import SHANGHAI, long_day, long_time, to_local, utcnow
from ..workflow import STALE
from . import evaluation as ev
from . import evaluation_notices as notices
from . import events, invitations
from .evaluation import _default_locale, clean_text, fail_tender, lock_tender
from .models import (
    BID_MACHINE,
    CHALLENGE_MACHINE,
    TENDER_MACHINE,
    AwardDecision,
    AwardDecisionKind,
    Bid,
    BidState,
    Challenge,
    ChallengeRemedy,
    ChallengeState,
    MemberState,
    Score,
    Tender,
    TenderEvent,
    TenderState,
)

#: The notice of award: the winning organization's staff, the department's officers, admin.
permissions.define("award.notice", {Role.ADMIN, Role.OFFICER, Role.ORG},
                   ADMIN | (role_in(Role.OFFICER) & related("tender", own_department()))
                   | (role_in(Role.ORG) & own_organization()), model=Bid)

#: Most files attached to one challenge, and the largest (bytes).
MAX_CHALLENGE_FILES = 5
MAX_CHALLENGE_FILE = 20 * 1024 * 1024


def end_of_local_day(day: date) -> datetime:
    """The end of ``day`` in Beijing time (midnight after it), as naive UTC."""
    local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    return local.astimezone(UTC).replace(tzinfo=None)


def working_days_after(at: datetime, n: int) -> datetime:
    """The end (Beijing time) of the n-th working day after the local day of ``at``."""
    return end_of_local_day(calendar.add_working_days(to_local(at).date(), n))


# --- eligibility at award ----------------------------------------------------------------


def eligibility(tender: Tender, org: Organization, day: date) -> list[Reason]:
    """Why ``org`` may not win ``tender`` on ``day`` (empty: eligible): the same check as
    at submission (organizations.eligibility_for_call), on the day of the award."""
    refused = invitations.refusal(tender, org)
    return ([refused] if refused else []) + eligibility_for_call(org, day, tender)


# --- the award decision ------------------------------------------------------------------


def decisions(tender: Tender) -> dict[int, AwardDecision]:
    return {d.bid_id: d for d in db.session.scalars(select(AwardDecision).where(AwardDecision.tender_id == tender.id))}


def next_in_line(tender: Tender) -> Bid | None:
    """The best-ranked scored bid the officer has not passed over."""
    decided = set(decisions(tender))
    for bid in db.session.scalars(select(Bid).where(Bid.tender_id == tender.id, Bid.state == BidState.SCORED)
                                  .order_by(Bid.rank, Bid.id)):
        if bid.id not in decided:
            return bid
    return None


def _check_turn(actor, tender: Tender, bid: Bid) -> Tender:
    require(actor, "tender.manage", tender)
    if bid.tender_id != tender.id:
        raise NotPermitted(_l("You are not allowed to do this."))
    seen_state = tender.state
    tender = lock_tender(tender)
    if tender.state != seen_state or tender.state != TenderState.EVALUATING:
        if tender.state in (TenderState.AWARDED, TenderState.FINAL):
            raise Conflict(STALE)
        raise InvalidTransition(_l("An award is made while the call is under evaluation, once the bids are "
                                   "ranked."))
    db.session.refresh(bid)
    if bid.id in decisions(tender):
        raise Conflict(STALE)
    nxt = next_in_line(tender)
    if nxt is None:
        raise InvalidTransition(_l("The bids have not been ranked yet."))
    if nxt.id != bid.id:
        raise ValidationError(_l("Decide on the bids in the order of the ranking: %(name)s (rank %(rank)d) comes "
                                 "first.", name=nxt.organization.name, rank=nxt.rank))
    return tender


def award_bid(actor, tender: Tender, bid: Bid) -> Tender:
    """Award ``bid`` (the next in the ranking) once its organization is still eligible:
    the award notice is published, the publicity period and challenge window start."""
    tender = _check_turn(actor, tender, bid)
    now = utcnow()
    reasons = eligibility(tender, bid.organization, to_local(now).date())
    if reasons:
        raise ValidationError(_l("%(name)s is not eligible at award: %(reasons)s Pass over this bid with the "
                                 "reason to move to the next.", name=bid.organization.name,
                                 reasons=LazyString(lambda: "; ".join(str(r) for r in reasons))))
    mp = policy.method_policy(tender.method)
    publicity_ends = working_days_after(now, mp.publicity_working_days)
    challenge_ends = working_days_after(now, mp.challenge_working_days)
    db.session.add(AwardDecision(tender_id=tender.id, bid_id=bid.id, decision=AwardDecisionKind.AWARD,
                                 decided_by_id=actor.id, decided_at=now))
    BID_MACHINE.transition(bid, BidState.AWARDED, actor)
    for other in db.session.scalars(select(Bid).where(Bid.tender_id == tender.id, Bid.state == BidState.SCORED,
                                                      Bid.id != bid.id)):
        BID_MACHINE.transition(other, BidState.NOT_AWARDED, actor)
    TENDER_MACHINE.transition(tender, TenderState.AWARDED, actor, values={
        "awarded_bid_id": bid.id, "award_notice_at": now, "publicity_ends_at": publicity_ends,
        "challenge_ends_at": challenge_ends, "next_event": TenderEvent.PUBLICITY_END,
        "next_event_at": publicity_ends}, extra={"awarded_bid_id": bid.id, "organization_id": bid.organization_id,
                                                  "publicity_ends_at": publicity_ends,
                                                  "challenge_ends_at": challenge_ends})
    notices.award_published(actor, tender, bid)
    return tender


def pass_over(actor, tender: Tender, bid: Bid, reason) -> AwardDecision:
    """Record why the next bid in the ranking is not awarded; the one after it comes next.
    When none is left the tender fails."""
    reason = clean_text(reason, "reason", message=_l("Say why this bid is not awarded."), limit=2000)
    tender = _check_turn(actor, tender, bid)
    decision = AwardDecision(tender_id=tender.id, bid_id=bid.id, decision=AwardDecisionKind.SKIP, reason=reason,
                             decided_by_id=actor.id, decided_at=utcnow())
    db.session.add(decision)
    BID_MACHINE.transition(bid, BidState.NOT_AWARDED, actor, reason=reason)
    audit.record(actor, "award.pass_over", tender, after={"bid_id": bid.id, "rank": bid.rank, "reason": reason})
    if next_in_line(tender) is None:
        with force_locale(_default_locale()):
            text = _("Every ranked bid was passed over.")
        fail_tender(actor, tender, text)
    return decision


# --- finality --------------------------------------------------------------------------


def open_challenges(tender: Tender) -> int:
    return db.session.scalar(select(func.count()).select_from(Challenge).where(
        Challenge.tender_id == tender.id, Challenge.state == ChallengeState.OPEN))


def _finalize(actor, tender: Tender) -> Tender:
    """awarded → final (the window closed, no challenge open): the project → awarded, the
    notice of award is rendered and everyone told."""
    TENDER_MACHINE.transition(tender, TenderState.FINAL, actor, values={"next_event": None, "next_event_at": None})
    project = db.session.get(Project, tender.project_id)
    if project.state == ProjectState.TENDERING:
        PROJECT_MACHINE.transition(project, ProjectState.AWARDED, actor)
    winner = db.session.get(Bid, tender.awarded_bid_id)
    jobs.create_job(actor if actor is not None else tender.created_by_id, NOTICE_JOB,
                    {"tender_id": tender.id, "bid_id": winner.id})
    notices.award_final(actor, tender, winner)
    return tender


def end_publicity(tender: Tender, now: datetime | None = None) -> bool:
    """The handler of ``TenderEvent.PUBLICITY_END``: the publicity period is over; the
    next event is the end of the challenge window. Compare-and-set; False when not due
    or already done."""
    now = now or utcnow()
    later = max(tender.challenge_ends_at or now, tender.publicity_ends_at or now)
    done = db.session.execute(update(Tender).where(
        Tender.id == tender.id, Tender.state == TenderState.AWARDED, Tender.next_event == TenderEvent.PUBLICITY_END,
        Tender.next_event_at <= now).values(next_event=TenderEvent.CHALLENGE_END, next_event_at=later)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return False
    db.session.refresh(tender)
    audit.record(None, "tender.publicity_end", tender, after={"next_event": TenderEvent.CHALLENGE_END.value,
                                                             "next_event_at": later})
    return True


def end_challenge_window(tender: Tender, now: datetime | None = None) -> bool:
    """The handler of ``TenderEvent.CHALLENGE_END``: the window has closed; with no open
    challenge the award is final, otherwise it becomes final when the last is answered.
    Idempotent; False when not due or already done."""
    now = now or utcnow()
    tender = lock_tender(tender)
    if (tender.state != TenderState.AWARDED or tender.next_event != TenderEvent.CHALLENGE_END
            or tender.next_event_at is None or tender.next_event_at > now):
        return False
    pending = open_challenges(tender)
    if pending:
        db.session.execute(update(Tender).where(Tender.id == tender.id).values(next_event=None, next_event_at=None)
                           .execution_options(synchronize_session=False))
        db.session.refresh(tender)
        audit.record(None, "tender.challenge_window_closed", tender, after={"open_challenges": pending})
        return True
    _finalize(None, tender)
    return True


#: The time events this module handles (for the tender beat's dispatcher).
EVENT_HANDLERS = {TenderEvent.PUBLICITY_END: end_publicity, TenderEvent.CHALLENGE_END: end_challenge_window}
for _event, _handler in EVENT_HANDLERS.items():
    events.register(_event)(_handler)


def is_final(tender: Tender) -> bool:
    return tender.state == TenderState.FINAL


# --- challenges (质疑) ------------------------------------------------------------------


def may_challenge(user, tender: Tender) -> Bid | None:
    """The user's organization's opened bid on ``tender``, if it may challenge the award."""
    if getattr(user, "role", None) != Role.ORG or user.organization_id is None:
        return None
    return db.session.scalar(select(Bid).where(Bid.tender_id == tender.id, Bid.organization_id == user.organization_id,
                                               Bid.opened_at.is_not(None)))


def lodge_challenge(actor, tender: Tender, reason, files=()) -> Challenge:
    """A bidder challenges the award within the window, with reasons and files
    (``files``: (filename, content type, bytes) triples)."""
    require(actor, "challenge.lodge")
    if may_challenge(actor, tender) is None:
        raise NotPermitted(_l("You are not allowed to do this."))
    reason = clean_text(reason, "reason", message=_l("Give the reasons of the challenge."), limit=8000)
    files = list(files or ())
    if len(files) > MAX_CHALLENGE_FILES:
        raise ValidationError(_l("Attach at most %(n)d files.", n=MAX_CHALLENGE_FILES), field="files")
    for name, _type, data in files:
        if len(data) > MAX_CHALLENGE_FILE:
            raise ValidationError(_l("“%(name)s” is larger than %(mb)d MB.", name=name,
                                     mb=MAX_CHALLENGE_FILE // (1024 * 1024)), field="files")
        if not data:
            raise ValidationError(_l("“%(name)s” is empty.", name=name), field="files")
    tender = lock_tender(tender)
    now = utcnow()
    if tender.state != TenderState.AWARDED or tender.challenge_ends_at is None:
        raise InvalidTransition(_l("A challenge is lodged against a published award, within its challenge window."))
    if now >= tender.challenge_ends_at:
        raise InvalidTransition(_l("The challenge window closed on %(at)s (Beijing time); a challenge can no longer "
                                   "be lodged.", at=long_time(tender.challenge_ends_at)))
    mp = policy.method_policy(tender.method)
    challenge = Challenge(tender_id=tender.id, organization_id=actor.organization_id, reason=reason, lodged_at=now,
                          lodged_by_id=actor.id, answer_due_at=working_days_after(now, mp.answer_working_days),
                          state=ChallengeState.OPEN)
    db.session.add(challenge)
    db.session.flush()
    audit.record(actor, "challenge.lodge", challenge, after=challenge.snapshot())
    for name, content_type, data in files:
        store_document(actor, data, name, content_type or "application/octet-stream", "challenge_file",
                       obj=challenge, permission="challenge.view")
    notices.challenge_lodged(actor, tender, challenge)
    return challenge


def answer_challenge(actor, challenge: Challenge, answer, *, upheld: bool = False, remedy=None) -> Challenge:
    """The officer answers a challenge. Dismissed (open → answered): the award stands, and
    when the window has closed and none is left open it becomes final. Upheld (open →
    upheld) with its remedy, while the award is under publicity: ``reevaluate`` sets the
    award aside and the call goes back to evaluation (:func:`set_award_aside`);
    ``retender`` fails the call, the project may be tendered again (87号令 第六十四条,
    政府采购质疑和投诉办法 第十六条)."""
    require(actor, "challenge.answer", challenge)
    answer = clean_text(answer, "answer", message=_l("Write the answer."), limit=8000)
    if upheld:
        try:
            remedy = ChallengeRemedy(remedy)
        except ValueError:
            raise ValidationError(_l("An upheld challenge states its remedy: evaluate again, or the tender fails."),
                                  field="remedy") from None
    elif remedy:
        raise ValidationError(_l("Only an upheld challenge has a remedy."), field="remedy")
    tender = lock_tender(challenge.tender)
    seen = challenge.state
    db.session.refresh(challenge)
    if challenge.state != seen:
        raise Conflict(STALE)  # answered by someone else while this request waited for the lock
    if upheld and tender.state != TenderState.AWARDED:
        raise InvalidTransition(_l("A challenge is upheld while the award is under publicity; this award has "
                                   "already been set aside or is final."))
    now = utcnow()
    if not upheld:
        CHALLENGE_MACHINE.transition(challenge, ChallengeState.ANSWERED, actor, values={
            "answer": answer, "answered_at": now, "answered_by_id": actor.id}, extra={"answer": answer})
        notices.challenge_answered(actor, tender, challenge)
        if (tender.state == TenderState.AWARDED and tender.next_event is None and tender.challenge_ends_at is not None
                and tender.challenge_ends_at <= now and open_challenges(tender) == 0):
            _finalize(actor, tender)
        return challenge
    CHALLENGE_MACHINE.transition(challenge, ChallengeState.UPHELD, actor, values={
        "answer": answer, "answered_at": now, "answered_by_id": actor.id, "remedy": remedy},
        extra={"answer": answer})
    notices.challenge_answered(actor, tender, challenge)
    if remedy == ChallengeRemedy.REEVALUATE:
        set_award_aside(actor, tender, challenge)
    else:
        with force_locale(_default_locale()):
            text = _("A challenge was upheld; the tender fails and the project may be tendered again: %(answer)s",
                     answer=answer)
        for bid in db.session.scalars(select(Bid).where(Bid.tender_id == tender.id, Bid.state == BidState.AWARDED)):
            BID_MACHINE.transition(bid, BidState.NOT_AWARDED, actor, reason=text)
        fail_tender(actor, tender, text)
    return challenge


def set_award_aside(actor, tender: Tender, challenge: Challenge) -> Tender:
    """An upheld challenge's re-evaluation: the award decisions are withdrawn (audited
    with what they were), the scored bids go back to qualified, the members' scores are
    unlocked for correction, and the call returns to evaluation (awarded → evaluating);
    the committee is asked to score again and the bidders are told."""
    before = [{"bid_id": d.bid_id, "decision": d.decision.value, "reason": d.reason}
              for d in decisions(tender).values()]
    db.session.execute(AwardDecision.__table__.delete().where(AwardDecision.tender_id == tender.id))
    audit.record(actor, "award.set_aside", tender, before={"decisions": before},
                 after={"challenge_id": challenge.id, "remedy": ChallengeRemedy.REEVALUATE.value})
    for bid in db.session.scalars(select(Bid).where(Bid.tender_id == tender.id,
                                                    Bid.state.in_((BidState.AWARDED, BidState.NOT_AWARDED)))
                                  .order_by(Bid.id)):
        BID_MACHINE.transition(bid, BidState.QUALIFIED, actor, values={"total_score": None, "rank": None})
    members = [m for m in ev.members_of(tender) if m.state == MemberState.DECLARED]
    db.session.execute(update(Score).where(Score.member_id.in_([m.id for m in members]))
                       .values(submitted_at=None).execution_options(synchronize_session=False))
    TENDER_MACHINE.transition(tender, TenderState.EVALUATING, actor, reason=challenge.answer, values={
        "awarded_bid_id": None, "award_notice_at": None, "publicity_ends_at": None, "challenge_ends_at": None,
        "next_event": None, "next_event_at": None}, extra={"challenge_id": challenge.id})
    notices.award_set_aside(actor, tender, challenge, [m.user for m in members])
    return tender


# --- the notice of award (中标/成交通知书) ------------------------------------------------

NOTICE_JOB = "tender.award_notice"
NOTICE_TASK = "workers.evaluation.award_notice"
jobs.register_task(NOTICE_JOB, NOTICE_TASK)


def notice_title(tender: Tender) -> str:
    if tender.method in (ProcurementMethod.PUBLIC_TENDER, ProcurementMethod.INVITED_TENDER):
        return _("Notice of award (bid won)")
    return _("Notice of award (transaction concluded)")


def notice_pdf(tender: Tender, bid: Bid, locale: str = "zh_CN") -> bytes:
    with force_locale(locale):
        return render_pdf("pdf/award_notice.html", locale=locale, title=notice_title(tender), tender=tender,
                          bid=bid, project=db.session.get(Project, tender.project_id),
                          notice_at=long_day(tender.award_notice_at),
                          sign_days=policy.value("contract.sign_within_days"),
                          generated=to_local(utcnow()).strftime("%Y-%m-%d %H:%M"))


def build_notice(job):
    """The job's work in the worker: render and store the notice on the winning bid."""
    tender = db.session.get(Tender, job.params["tender_id"])
    bid = db.session.get(Bid, job.params["bid_id"])
    data = notice_pdf(tender, bid, job.params.get("locale") or _default_locale())
    return store_document(job.requested_by, data, f"中标通知书-{tender.id}.pdf", "application/pdf", "award_notice",
                          obj=bid, permission="award.notice")
