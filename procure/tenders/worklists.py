"""Tendering on the dashboard (issue 9 item 10): each role's tender work, as queue counts
and as work lists, every read narrowed by a permission rule's own filter.

- organizations: the open calls they may bid on (rule ``tender.bid_on``) and their own
  bids (``bid.view_own``) with the state and the deadline;
- evaluators: their committee assignments (``committee.serve``) with the next step
  (declare, score);
- officers: their department's tenders (``tender.manage``) by state with the next time
  event, and the challenges to answer (``challenge.answer``).

No list counts or names bids to anyone but the bidding organization: an officer's or
an evaluator's list shows tenders, never how many bids they hold."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, false, or_, select, true

from .. import permissions
from ..extensions import db
from ..organizations.models import OrgKind
from ..permissions import Scope, owned_by, visible
from ..projects.models import Project, ProjectState
from ..projects.worklists import project_items
from ..queues import Queue, WorkItem, WorkList, register_list
from ..queues import register as register_queue
from ..roles import Role
from ..timeutil import utcnow
from . import (
    invitations,
    services,  # noqa: F401  (the module's rules: bid.view_own, tender.manage, challenge.answer)
)
from .models import Bid, BidState, Challenge, ChallengeState, CommitteeMember, MemberState, Score, Tender, TenderState

T = TenderState
#: How many items a work list shows (the oldest due first); the portal or the module's
#: own pages list the rest.
LIMIT = 20
#: Tenders an officer still works on (a final award goes on to the contract).
ACTIVE = (T.DRAFT, T.PUBLISHED, T.CLOSED, T.EVALUATING, T.AWARDED)
#: Bids an organization holds but has not (or no longer) submitted.
UNSUBMITTED = (BidState.DRAFT, BidState.WITHDRAWN)
#: Tender states in which a bid is still in play for its organization.
IN_PLAY = (T.PUBLISHED, T.CLOSED, T.EVALUATING, T.AWARDED)
#: An officer's list, state by state (in the order a call goes through them).
STATE_ORDER = {s: i for i, s in enumerate(ACTIVE)}


# --- the calls an organization may bid on ---------------------------------------------------


def _may_bid(user, tender) -> bool:
    org = getattr(user, "organization", None)
    if org is None or tender is None:
        return False
    now = utcnow()
    return (tender.state == T.PUBLISHED and tender.published_at is not None and tender.published_at <= now
            and tender.deadline_at is not None and tender.deadline_at > now
            and invitations.may_answer(tender, org.id)
            and (org.kind != OrgKind.FILED or bool(tender.admit_filed))
            and (tender.min_rating is None or (org.rating_level or 0) >= tender.min_rating))


def _may_bid_where(user, model):
    org = getattr(user, "organization", None)
    if org is None:
        return false()
    now = utcnow()
    return and_(model.state == T.PUBLISHED, model.published_at.is_not(None), model.published_at <= now,
                model.deadline_at.is_not(None), model.deadline_at > now,
                invitations.answer_clause(model, org.id),
                true() if org.kind != OrgKind.FILED else model.admit_filed.is_(True),
                or_(model.min_rating.is_(None), model.min_rating <= (org.rating_level or 0)))


#: An open call (published, before its deadline) that the user's organization may answer:
#: not a single source naming another organization, filed organizations only where the
#: call admits them, the call's minimum rating met. The full eligibility check comes at
#: submission, each failed condition explained.
OPEN_TO_ORG = Scope(_may_bid, _may_bid_where, "[open call the organization may answer]")
permissions.define("tender.bid_on", {Role.ORG}, OPEN_TO_ORG, model=Tender)
#: An evaluator's own committee rows (declare, then score).
permissions.define("committee.serve", {Role.EVALUATOR}, owned_by("user_id"), model=CommitteeMember)


# --- links -------------------------------------------------------------------------------------


def tender_url(tender_id: int, state: TenderState, *, manage: bool = False) -> str:
    """The tender's page for its officers (``tenders.detail``), else its organization page
    (``tenders.call``)."""
    if manage:
        return url_for("tenders.detail", tender_id=tender_id)
    return url_for("tenders.call", tender_id=tender_id)


def bid_url(tender_id: int, tender_state: TenderState, bid_state: BidState) -> str:
    """Where an organization acts on its bid: the bid form while it may still submit,
    the result page after the award, else the call page (with the receipt)."""
    if tender_state == T.PUBLISHED and bid_state in UNSUBMITTED:
        return url_for("tenders.bid_form", tender_id=tender_id)
    if tender_state in (T.AWARDED, T.FINAL) and bid_state not in UNSUBMITTED:
        return url_for("evaluation.outcome", tender_id=tender_id)
    return url_for("tenders.call", tender_id=tender_id)


# --- organizations ---------------------------------------------------------------------------


def _not_bid_on(user):
    """The calls the user's organization holds no bid on: a call it has bid on (a draft,
    submitted or withdrawn bid) is listed under its bids, with that bid's next step."""
    return ~exists().where(Bid.tender_id == Tender.id, Bid.organization_id == user.organization_id)


def _open_calls(user) -> list[WorkItem]:
    rows = db.session.execute(visible(user, "tender.bid_on", select(Tender.id, Tender.title, Tender.deadline_at),
                                      Tender).where(_not_bid_on(user))
                              .order_by(Tender.deadline_at, Tender.id).limit(LIMIT)).all()
    return [WorkItem(title, url_for("tenders.call", tender_id=tid), T.PUBLISHED.label,
                     _l("Read the call and prepare a bid"), _l("Bid deadline"), deadline)
            for tid, title, deadline in rows]


def _own_bids(user) -> list[WorkItem]:
    rows = db.session.execute(visible(user, "bid.view_own", select(
        Bid.id, Bid.state, Bid.needs_reconfirmation, Tender.id, Tender.title, Tender.state, Tender.deadline_at,
        Tender.opening_at, Tender.challenge_ends_at).join(Tender, Tender.id == Bid.tender_id), Bid)
        .where(Tender.state.in_(IN_PLAY))
        .order_by(Tender.deadline_at, Bid.id).limit(LIMIT)).all()
    items = []
    for _bid_id, state, reconfirm, tid, title, tstate, deadline, opening, challenge_end in rows:
        if tstate == T.PUBLISHED and state in UNSUBMITTED:
            step, due_label, due = _l("Submit before the deadline"), _l("Bid deadline"), deadline
        elif tstate == T.PUBLISHED and reconfirm:
            step, due_label, due = _l("Confirm the bid again (the call changed)"), _l("Bid deadline"), deadline
        elif tstate == T.PUBLISHED:
            step, due_label, due = _l("Sealed until the opening"), _l("Opening of bids"), opening
        elif tstate == T.AWARDED:
            step, due_label, due = (_l("See the result; a challenge may be lodged until the window ends"),
                                    _l("End of the challenge window"), challenge_end)
        else:  # opened, under evaluation: nothing for the organization to do but wait
            step, due_label, due = _l("Wait for the evaluation result"), None, None
        items.append(WorkItem(title, bid_url(tid, tstate, state), state.label, step, due_label, due))
    return items


register_queue(Queue(
    "tender.open_calls", "tender.bid_on", _l("Open calls you may bid on"), Tender,
    lambda u: url_for("dashboard.index", _anchor="worklist-tender.open_calls"), where=_not_bid_on))
register_queue(Queue(
    "tender.unsubmitted_bids", "bid.view_own", _l("Bids not submitted yet"), Bid,
    lambda u: url_for("dashboard.index", _anchor="worklist-tender.own_bids"),
    where=lambda u: and_(Bid.state.in_(UNSUBMITTED), Bid.tender.has(Tender.state == T.PUBLISHED))))
register_list(WorkList("tender.open_calls", "tender.bid_on", _l("Open calls you may bid on"), _open_calls,
                       empty=_l("No open call at the moment."), order=10))
register_list(WorkList("tender.own_bids", "bid.view_own", _l("Your bids"), _own_bids, order=11))


# --- evaluators --------------------------------------------------------------------------------

_SUBMITTED = exists().where(Score.member_id == CommitteeMember.id, Score.submitted_at.is_not(None))
#: An assignment waits for its member: drawn and not yet declared while the tender runs,
#: or declared with the bids opened and the scores not submitted.
_WAITING = or_(
    and_(CommitteeMember.state == MemberState.DRAWN,
         CommitteeMember.tender.has(Tender.state.in_((T.PUBLISHED, T.CLOSED, T.EVALUATING)))),
    and_(CommitteeMember.state == MemberState.DECLARED,
         CommitteeMember.tender.has(Tender.state.in_((T.CLOSED, T.EVALUATING))), ~_SUBMITTED))


def _assignments(user) -> list[WorkItem]:
    rows = db.session.execute(visible(user, "committee.serve", select(
        CommitteeMember.state, CommitteeMember.is_backup, CommitteeMember.declared_at, _SUBMITTED.label("submitted"),
        Tender.id, Tender.title, Tender.state, Tender.opening_at, Tender.opened_at)
        .join(Tender, Tender.id == CommitteeMember.tender_id), CommitteeMember)
        .where(CommitteeMember.state.in_((MemberState.DRAWN, MemberState.DECLARED)),
               Tender.state.in_((T.PUBLISHED, T.CLOSED, T.EVALUATING)))
        .order_by(Tender.opening_at, Tender.id).limit(LIMIT)).all()
    items = []
    for state, _backup, declared_at, submitted, tid, title, tstate, opening, opened in rows:
        if state == MemberState.DRAWN:
            step, due_label, due = _l("Declare conflicts of interest"), _l("Opening of bids"), opening
        elif tstate == T.PUBLISHED:
            step, due_label, due = _l("Wait for the opening"), _l("Opening of bids"), opening
        elif not submitted:
            step, due_label, due = _l("Score the bids"), _l("Waiting since"), max(opened or opening, declared_at)
        else:
            step, due_label, due = _l("Scores submitted"), None, None
        items.append(WorkItem(title, url_for("evaluation.member", tender_id=tid), state.label, step, due_label, due))
    return items


register_queue(Queue(
    "tender.assignments", "committee.serve", _l("Committee assignments waiting for you"), CommitteeMember,
    lambda u: url_for("dashboard.index", _anchor="worklist-tender.assignments"), where=lambda u: _WAITING))
register_list(WorkList("tender.assignments", "committee.serve", _l("Your committee assignments"), _assignments,
                       empty=_l("No committee assignment at the moment."), order=20))


# --- officers ------------------------------------------------------------------------------------


def _department_tenders(user) -> list[WorkItem]:
    rank = case(*[(Tender.state == s, i) for s, i in STATE_ORDER.items()], else_=len(STATE_ORDER))
    rows = db.session.execute(visible(user, "tender.manage", select(
        Tender.id, Tender.title, Tender.state, Tender.next_event, Tender.next_event_at, Tender.updated_at), Tender)
        .where(Tender.state.in_(ACTIVE))
        .order_by(rank, Tender.next_event_at, Tender.id).limit(LIMIT)).all()
    items = []
    for tid, title, state, event, event_at, _updated in rows:
        step = {T.DRAFT: _l("Complete and publish the call"), T.CLOSED: _l("Draw the committee and evaluate"),
                T.EVALUATING: _l("Follow the committee's scoring, then award"),
                T.PUBLISHED: _l("Answer questions; open the bids when the time comes"),
                T.AWARDED: _l("Answer challenges; the award becomes final after the window")}.get(state)
        items.append(WorkItem(title, tender_url(tid, state, manage=True), state.label, step,
                              event.label if event else None, event_at))
    return items


def _challenges(user) -> list[WorkItem]:
    rows = db.session.execute(visible(user, "challenge.answer", select(
        Challenge.id, Challenge.answer_due_at, Tender.id, Tender.title, Tender.state)
        .join(Tender, Tender.id == Challenge.tender_id), Challenge)
        .where(Challenge.state == ChallengeState.OPEN)
        .order_by(Challenge.answer_due_at, Challenge.id).limit(LIMIT)).all()
    return [WorkItem(title, url_for("evaluation.challenges", tender_id=tid), ChallengeState.OPEN.label,
                     _l("Answer the challenge"), _l("Answer due"), due) for _cid, due, tid, title, _tstate in rows]


register_queue(Queue(
    "tender.challenges", "challenge.answer", _l("Challenges to answer"), Challenge,
    lambda u: url_for("dashboard.index", _anchor="worklist-tender.challenges"),
    where=lambda u: Challenge.state == ChallengeState.OPEN, tone="danger"))
register_queue(Queue(
    "tender.in_progress", "tender.manage", _l("Calls in progress"), Tender,
    lambda u: url_for("dashboard.index", _anchor="worklist-tender.department"),
    where=lambda u: Tender.state.in_(ACTIVE)))
def _projects_to_tender(user) -> list[WorkItem]:
    """Projects whose funds are approved and whose call is still to be drafted: a project
    with a drafted call is on the list of calls ("complete and publish"), listed once."""
    drafted = exists().where(Tender.project_id == Project.id, Tender.state == T.DRAFT)
    return project_items(user, "project.edit", (Project.state == ProjectState.APPROVED) & ~drafted,
                         (Project.period_start, Project.id), _l("Prepare and publish the call for bids"),
                         _l("Service starts"), Project.period_start)


register_list(WorkList("project.to_tender", "project.edit", _l("Funds approved: calls to start"), _projects_to_tender,
                       order=7))
register_list(WorkList("tender.challenges", "challenge.answer", _l("Challenges to answer"), _challenges, order=30))
register_list(WorkList("tender.department", "tender.manage", _l("Your department's calls"), _department_tenders,
                       empty=_l("No call in progress."), order=31))

