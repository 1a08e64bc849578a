"""The evaluation of a tender (DOMAIN.md §5, issue 9 items 6–7): the committee drawn at
random from the evaluator pool, the members' conflict declarations, the qualification
review, the members' scores, the totals and the ranking, the evaluation report.

The draw is replayable: the pool (evaluators with the evaluator role whose fields match
the project's service category, sorted by user id), a stored random seed and the
algorithm name give the result (:func:`replay_draw`). Each service checks permission,
enforces the rules, audits and flushes; the caller commits once.

Scores: a member scores each non-price criterion of each qualified bid from 0 to its
maximum, with at most two decimals; submitting locks them. The price score is computed,
never typed: lowest valid price / bid price × price weight. Per bid, the technical score
is the mean over the committee of Σ score / maximum × weight; each part is rounded to
three decimals (half up) and the total is their sum. Ranking: total, then the lower
price, then the higher technical score (DOMAIN.md §5); then the earlier submission.
"""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from .. import audit, permissions, policy
from ..auth.models import User, UserStatus
from ..documents.services import store_document
from ..errors import Conflict, InvalidTransition, NotPermitted, ValidationError
from ..extensions import db
from ..jobs import services as jobs
from ..money import format_money
from ..organizations.models import Organization
from ..parsing import CONTROL_CHARS_MESSAGE, has_control_chars, parse_id
from ..pdf import render_pdf
from ..permissions import require
from ..projects.models import PROJECT_MACHINE, Project, ProjectState, ServiceCategory
from ..roles import Role
from ..timeutil import to_local, utcnow
from ..workflow import STALE
from . import evaluation_history as _history  # noqa: F401 - how its actions read
from . import evaluation_notices as notices
from .evaluators import EvaluatorField
from .models import (
    BID_MACHINE,
    MEMBER_MACHINE,
    TENDER_MACHINE,
    Bid,
    BidState,
    CommitteeDraw,
    CommitteeMember,
    MemberState,
    Score,
    Tender,
    TenderCriterion,
    TenderState,
)

ALGORITHM = "py-random-shuffle/v1"
#: The largest committee an officer may ask for.
MAX_COMMITTEE = 25
GRANT_KIND = "evaluator"
TWO_PLACES = Decimal("0.01")
THREE_PLACES = Decimal("0.001")
#: Tender states in which the committee may be drawn (before or after the opening).
DRAW_STATES = frozenset({TenderState.PUBLISHED, TenderState.CLOSED})
ACTIVE = (MemberState.DRAWN, MemberState.DECLARED)


def format_score(value) -> str:
    """A score as people read it: two decimals, half up (the stored and ranked value keeps
    three); "—" when there is none."""
    if value is None or value == "":
        return "—"
    try:
        return str(Decimal(str(value)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP))
    except InvalidOperation:
        return str(value)


def lock_tender(tender: Tender) -> Tender:
    """The tender's row, locked until the commit and read fresh (two officers acting on
    one tender queue here; the later one sees what the first did)."""
    row = db.session.execute(select(Tender).where(Tender.id == tender.id).with_for_update()
                             .execution_options(populate_existing=True)).scalar_one()
    return row


def clean_text(value, field: str, *, required: bool = True, limit: int = 4000,
               message=None) -> str | None:
    """Free text from a form: stripped, no control characters, within ``limit``."""
    text = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if has_control_chars(text, multiline=True):
        raise ValidationError(CONTROL_CHARS_MESSAGE, field=field)
    if not text:
        if required:
            raise ValidationError(message or _l("This field is required."), field=field)
        return None
    if len(text) > limit:
        raise ValidationError(_l("The text is too long (at most %(n)d characters).", n=limit), field=field)
    return text


# --- the evaluator pool and the draw --------------------------------------------------


def evaluator_pool(category_id: int) -> list[dict]:
    """Active evaluators covering ``category_id``, sorted by user id, as the draw reads them."""
    rows = db.session.execute(
        select(User.id, EvaluatorField.is_expert).join(EvaluatorField, EvaluatorField.user_id == User.id)
        .where(EvaluatorField.category_id == category_id, User.role == Role.EVALUATOR,
               User.status == UserStatus.ACTIVE).order_by(User.id)).all()
    return [{"user_id": r.id, "is_expert": bool(r.is_expert)} for r in rows]


def set_evaluator_fields(actor, user: User, fields: list[tuple[int, bool]]) -> list[EvaluatorField]:
    """An administrator sets the fields (service categories, expert or not) of an evaluator."""
    require(actor, "user.manage")
    if user.role != Role.EVALUATOR:
        raise ValidationError(_l("Only an evaluator has fields."))
    before = [{"category_id": f.category_id, "is_expert": f.is_expert} for f in db.session.scalars(
        select(EvaluatorField).where(EvaluatorField.user_id == user.id).order_by(EvaluatorField.category_id))]
    wanted = {}
    for c, e in fields:
        cat_id = parse_id(c)
        if cat_id is None or db.session.get(ServiceCategory, cat_id) is None:
            raise ValidationError(_l("Choose service categories from the guiding catalogue."), field="categories")
        wanted[cat_id] = bool(e)
    db.session.execute(EvaluatorField.__table__.delete().where(EvaluatorField.user_id == user.id))
    rows = [EvaluatorField(user_id=user.id, category_id=c, is_expert=e) for c, e in wanted.items()]
    db.session.add_all(rows)
    db.session.flush()
    audit.record(actor, "evaluator.fields", "users", user.id, before={"fields": before},
                 after={"fields": [{"category_id": r.category_id, "is_expert": r.is_expert}
                                   for r in sorted(rows, key=lambda r: r.category_id)]})
    return rows


def draw_order(pool: list[dict], seed: str) -> list[dict]:
    """The pool in the order drawn: ``random.Random(seed)`` shuffles the pool as stored
    (sorted by user id)."""
    ranked = list(pool)
    random.Random(seed).shuffle(ranked)
    return ranked


def pick(ranked: list[dict], size: int, min_experts: int) -> tuple[list[int], list[int]]:
    """Members and ranked backups from the drawn order: walking the order, a candidate
    joins the committee while seats are free, a non-expert only if the seats left still
    hold the experts needed; everyone else is a backup, in order."""
    members, backups, experts = [], [], 0
    for cand in ranked:
        free = size - len(members)
        needed = max(0, min_experts - experts)
        if free > 0 and (cand["is_expert"] or free > needed):
            members.append(cand["user_id"])
            experts += 1 if cand["is_expert"] else 0
        else:
            backups.append(cand["user_id"])
    return members, backups


def compute_draw(pool: list[dict], seed: str, size: int, min_experts: int) -> dict:
    members, backups = pick(draw_order(pool, seed), size, min_experts)
    return {"members": members, "backups": backups, "min_experts": min_experts}


def replay_draw(draw: CommitteeDraw) -> dict:
    """The result the stored pool and seed give (equal to ``draw.result`` unless tampered)."""
    if draw.algorithm != ALGORITHM:
        raise ValueError(f"unknown draw algorithm {draw.algorithm!r}")
    return compute_draw(draw.pool, draw.seed, draw.size, int(draw.result.get("min_experts", 0)))


@dataclass(frozen=True)
class Composition:
    size: int
    min_experts: int


def composition(tender: Tender, size=None) -> Composition:
    """The committee the method requires, or a larger odd size the officer asks for."""
    mp = policy.method_policy(tender.method)
    if size in (None, ""):
        n = mp.committee_size
    else:
        try:
            n = int(str(size).strip())
        except ValueError:
            raise ValidationError(_l("The committee size is a whole number."), field="size") from None
    if n < mp.committee_size:
        raise ValidationError(_l("The committee needs at least %(n)d members (%(source)s).", n=mp.committee_size,
                                 source=mp.source("committee_size")), field="size")
    if n % 2 == 0:
        raise ValidationError(_l("The committee has an odd number of members."), field="size")
    if n > MAX_COMMITTEE:
        raise ValidationError(_l("A committee has at most %(n)d members.", n=MAX_COMMITTEE), field="size")
    share = mp.min_expert_share
    experts = math.ceil(share * n - Decimal("0.0001"))
    return Composition(n, experts)


def current_draw(tender: Tender) -> CommitteeDraw | None:
    """The committee's draw (the first; a re-draw adds a seat, it does not resize the
    committee)."""
    return db.session.scalar(select(CommitteeDraw).where(CommitteeDraw.tender_id == tender.id)
                             .order_by(CommitteeDraw.id).limit(1))


def redraws(tender: Tender) -> list[CommitteeDraw]:
    """The additional draws made when the backups ran out, oldest first."""
    return list(db.session.scalars(select(CommitteeDraw).where(CommitteeDraw.tender_id == tender.id)
                                   .order_by(CommitteeDraw.id).offset(1)))


def members_of(tender: Tender, *, active_only: bool = False) -> list[CommitteeMember]:
    stmt = select(CommitteeMember).where(CommitteeMember.tender_id == tender.id)
    if active_only:
        stmt = stmt.where(CommitteeMember.state.in_(ACTIVE))
    return list(db.session.scalars(stmt.order_by(CommitteeMember.position)))


def draw_committee(actor, tender: Tender, size=None, *, seed: str | None = None) -> CommitteeDraw:
    """Draw the committee of ``tender`` at random from the evaluator pool of its project's
    category: members and ranked backups. Audited with the pool, seed and result; the
    members get their grant on the tender and are told to declare."""
    require(actor, "tender.manage", tender)
    tender = lock_tender(tender)
    if tender.state not in DRAW_STATES:
        raise InvalidTransition(_l("The committee is drawn once the call is published and before the "
                                   "evaluation starts."))
    if members_of(tender):
        raise Conflict(_l("The committee of this call has already been drawn."))
    comp = composition(tender, size)
    project = db.session.get(Project, tender.project_id)
    pool = evaluator_pool(project.category_id)
    experts = sum(1 for p in pool if p["is_expert"])
    if len(pool) < comp.size or experts < comp.min_experts:
        raise ValidationError(_l(
            "The evaluator pool of this service category has %(n)d evaluators (%(e)d experts); the committee "
            "needs %(size)d members, at least %(min)d of them experts. Ask an administrator to add evaluators "
            "to the pool.", n=len(pool), e=experts, size=comp.size, min=comp.min_experts), field="size")
    seed = seed or secrets.token_hex(16)
    result = compute_draw(pool, seed, comp.size, comp.min_experts)
    draw = CommitteeDraw(tender_id=tender.id, algorithm=ALGORITHM, seed=seed, pool=pool, result=result,
                         size=comp.size, drawn_by_id=actor.id)
    db.session.add(draw)
    db.session.flush()
    audit.record(actor, "committee.draw", tender, after={"draw_id": draw.id, **draw.snapshot()})
    expert = {p["user_id"]: p["is_expert"] for p in pool}
    people = []
    for position, user_id in enumerate(result["members"], start=1):
        people.append(_seat(actor, tender, draw, user_id, position, backup=False, is_expert=expert[user_id]))
    notices.committee_drawn(actor, tender, [m.user for m in people])
    return draw


def _seat(actor, tender, draw, user_id: int, position: int, *, backup: bool, is_expert: bool) -> CommitteeMember:
    member = CommitteeMember(tender_id=tender.id, draw_id=draw.id, user_id=user_id, position=position,
                             is_backup=backup, is_expert=is_expert, state=MemberState.DRAWN)
    db.session.add(member)
    db.session.flush()
    audit.record(actor, "committee.seat", member, after=member.snapshot())
    # The access is given in the name of the officer who drew (a backup is called when a
    # member declares a conflict: the member cannot give access themselves).
    granter = actor if permissions.can(actor, "tender.manage", tender) else db.session.get(User, draw.drawn_by_id)
    permissions.grant(granter, member.user, tender, GRANT_KIND, permission="tender.manage")
    return member


def member_for(user, tender: Tender) -> CommitteeMember | None:
    """``user``'s active seat on ``tender``'s committee, if any."""
    if user is None or getattr(user, "id", None) is None:
        return None
    return db.session.scalar(select(CommitteeMember).where(
        CommitteeMember.tender_id == tender.id, CommitteeMember.user_id == user.id,
        CommitteeMember.state.in_(ACTIVE)))


def bidder_names(tender: Tender) -> list[str]:
    """The names of the organizations whose bids were opened (after the opening only)."""
    if tender.opened_at is None:
        return []
    return list(db.session.scalars(
        select(Organization.name).join(Bid, Bid.organization_id == Organization.id)
        .where(Bid.tender_id == tender.id, Bid.opened_at.is_not(None)).order_by(Organization.name)))


def declare(actor, tender: Tender, has_conflict: bool, note: str | None = None) -> CommitteeMember:
    """A member declares, against the bidder names and before any bid content, whether
    they have a conflict of interest. A conflict removes them and calls the next backup."""
    member = member_for(actor, tender)
    if member is None:
        raise NotPermitted(_l("You are not allowed to do this."))
    if tender.opened_at is None:
        raise InvalidTransition(_l("The declaration is made once the bids are opened and the bidder names "
                                   "are known."))
    if member.state != MemberState.DRAWN:
        raise Conflict(_l("The declaration has already been made."))
    note = clean_text(note, "note", required=bool(has_conflict),
                      message=_l("Say what the conflict of interest is."), limit=2000)
    now = utcnow()
    # The member's row first (compare-and-set), then the grant, then the tender (a backup
    # is called): the order replace_member takes too, so racing requests queue, never
    # deadlock, and the later one is told to reload.
    if not has_conflict:
        MEMBER_MACHINE.transition(member, MemberState.DECLARED, actor, values={"declared_at": now})
        permissions.declare_conflict(actor, tender, GRANT_KIND, False)
        return member
    MEMBER_MACHINE.transition(member, MemberState.CONFLICTED, actor,
                              values={"declared_at": now, "conflict_note": note}, extra={"note": note})
    permissions.declare_conflict(actor, tender, GRANT_KIND, True)
    call_backup(actor, tender, member)
    return member


def replace_member(actor, tender: Tender, member: CommitteeMember, reason) -> CommitteeMember:
    """The officer withdraws a member who cannot serve (drawn or declared, before the
    evaluation starts), with the reason: the member → replaced, their access revoked, the
    next backup (or a re-draw) takes the seat."""
    require(actor, "tender.manage", tender)
    if member.tender_id != tender.id:
        raise NotPermitted(_l("You are not allowed to do this."))
    reason = clean_text(reason, "reason", message=_l("Say why the member is replaced."), limit=2000)
    if tender.state not in DRAW_STATES:
        raise InvalidTransition(_l("A member is replaced before the evaluation starts."))
    if member.state not in ACTIVE:
        raise Conflict(STALE)
    MEMBER_MACHINE.transition(member, MemberState.REPLACED, actor, reason=reason)
    permissions.revoke(actor, member.user, tender, GRANT_KIND, permission="tender.manage")
    call_backup(actor, tender, member)
    return member


def call_backup(actor, tender: Tender, leaving: CommitteeMember) -> CommitteeMember | None:
    """Seat the next backup of the draw in ``leaving``'s place, keeping the expert share;
    when the backups have run out, draw one more seat from the pool (:func:`redraw`); tell
    the one seated (or tell the officers that nobody is left)."""
    tender = lock_tender(tender)
    draw = db.session.get(CommitteeDraw, leaving.draw_id) if leaving.draw_id else current_draw(tender)
    seated = {m.user_id for m in members_of(tender)}
    active = [m for m in members_of(tender, active_only=True)]
    committee = current_draw(tender)
    need_expert = sum(1 for m in active if m.is_expert) < int(committee.result.get("min_experts", 0))
    # The backups of the leaving member's draw, then those of the tender's other draws
    # (a re-draw ranks the rest of its pool as backups), before drawing again.
    draws = [draw] + [d for d in [committee, *redraws(tender)] if d.id != draw.id]
    expert = {p["user_id"]: p["is_expert"] for d in draws for p in d.pool}
    chosen = None
    for user_id, source in ((u, d) for d in draws for u in d.result.get("backups", [])):
        if user_id in seated:
            continue
        user = db.session.get(User, user_id)
        if user is None or not user.is_active or user.role != Role.EVALUATOR:
            continue
        if need_expert and not expert.get(user_id):
            continue
        chosen, draw = user_id, source
        break
    if chosen is None:
        draw, chosen = redraw(actor, tender, leaving, committee, need_expert, seated)
        if chosen is None:
            notices.committee_short(actor, tender)
            return None
        expert = {p["user_id"]: p["is_expert"] for p in draw.pool}
    position = (db.session.scalar(select(func.max(CommitteeMember.position))
                                  .where(CommitteeMember.tender_id == tender.id)) or 0) + 1
    backup = _seat(actor, tender, draw, chosen, position, backup=True, is_expert=bool(expert.get(chosen)))
    done = db.session.execute(update(CommitteeMember).where(
        CommitteeMember.id == leaving.id, CommitteeMember.replaced_by_id.is_(None)).values(replaced_by_id=backup.id)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(STALE)
    leaving.replaced_by_id = backup.id
    audit.record(actor, "committee.backup", backup, after={"replaces": leaving.id, **backup.snapshot()})
    notices.backup_called(actor, tender, backup.user)
    return backup


def redraw(actor, tender: Tender, leaving: CommitteeMember, original: CommitteeDraw, need_expert: bool,
           seated: set[int]) -> tuple[CommitteeDraw, int | None]:
    """The backups ran out: an additional draw of one seat from the pool with the same
    rules (the category's active evaluators, nobody already on this committee, an expert
    when the expert share needs one), its own seed, audited and replayable like the first;
    the rest of that pool are its ranked backups. (draw, None) when the pool is empty."""
    project = db.session.get(Project, tender.project_id)
    pool = [p for p in evaluator_pool(project.category_id) if p["user_id"] not in seated]
    if not pool or (need_expert and not any(p["is_expert"] for p in pool)):
        return original, None
    seed = secrets.token_hex(16)
    result = compute_draw(pool, seed, 1, 1 if need_expert else 0)
    draw = CommitteeDraw(tender_id=tender.id, algorithm=ALGORITHM, seed=seed, pool=pool, result=result, size=1,
                         drawn_by_id=original.drawn_by_id)
    db.session.add(draw)
    db.session.flush()
    audit.record(actor, "committee.redraw", tender, after={"draw_id": draw.id, "replaces": leaving.id,
                                                           **draw.snapshot()})
    return draw, result["members"][0]


def committee_complete(tender: Tender) -> bool:
    """Every seat of the draw's size is held by a member who declared no conflict."""
    draw = current_draw(tender)
    if draw is None:
        return False
    declared = db.session.scalar(select(func.count()).select_from(CommitteeMember).where(
        CommitteeMember.tender_id == tender.id, CommitteeMember.state == MemberState.DECLARED))
    return declared >= draw.size


# --- qualification review -------------------------------------------------------------

#: Why a bid is disqualified (the officer chooses; a price above the ceiling or a failed
#: eligibility at bid time is required, not optional).
DISQUALIFY_REASONS = {
    "above_ceiling": _l("The price is above the budget ceiling"),
    "eligibility": _l("Eligibility failed at bid time"),
    "documents_missing": _l("Required documents are missing"),
    "not_opened": _l("The bid could not be opened or verified"),
}


def forced_disqualification(tender: Tender, bid: Bid) -> str | None:
    """The reason code that forbids qualifying ``bid``, if any."""
    if bid.price is None or bid.open_error:
        return "not_opened"
    project = db.session.get(Project, tender.project_id)
    if bid.price > project.budget_ceiling:
        return "above_ceiling"
    if bid.eligibility_failures:
        return "eligibility"
    return None


def _default_locale() -> str:
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")


def disqualification_text(tender: Tender, bid: Bid, code: str, note: str | None) -> str:
    """The stored reason, in the default language (the organization reads it as written)."""
    with force_locale(_default_locale()):
        text = str(DISQUALIFY_REASONS[code])
        if code == "above_ceiling" and bid.price is not None:
            project = db.session.get(Project, tender.project_id)
            text = _("The price %(price)s is above the budget ceiling %(ceiling)s",
                     price=format_money(bid.price), ceiling=format_money(project.budget_ceiling))
        elif code == "not_opened" and bid.open_error:
            text = f"{text}: {bid.open_error}"
    return f"{text}. {note}" if note else text


def review_bid(actor, tender: Tender, bid: Bid, qualified: bool, reason: str | None = None,
               note: str | None = None) -> Bid:
    """The qualification review of one opened bid: qualified, or disqualified with a reason."""
    require(actor, "tender.manage", tender)
    if bid.tender_id != tender.id:
        raise NotPermitted(_l("You are not allowed to do this."))
    if tender.state != TenderState.CLOSED:
        raise InvalidTransition(_l("The qualification review is done after the opening, before the evaluation "
                                   "starts."))
    if bid.state != BidState.OPENED:
        raise Conflict(_l("This bid has already been reviewed."))
    note = clean_text(note, "note", required=False, limit=1000)
    forced = forced_disqualification(tender, bid)
    if qualified:
        if forced:
            raise ValidationError(_l("This bid cannot be qualified: %(why)s. Disqualify it with this reason.",
                                     why=DISQUALIFY_REASONS[forced]), field="reason")
        return BID_MACHINE.transition(bid, BidState.QUALIFIED, actor)
    if reason not in DISQUALIFY_REASONS:
        raise ValidationError(_l("Choose the reason for the disqualification."), field="reason")
    if forced and reason != forced and forced in ("above_ceiling", "not_opened"):
        reason = forced
    text = disqualification_text(tender, bid, reason, note)
    return BID_MACHINE.transition(bid, BidState.DISQUALIFIED, actor, reason=text,
                                  values={"disqualification_reason": text})


def start_evaluation(actor, tender: Tender) -> Tender:
    """closed → evaluating, once every opened bid is reviewed and the committee has
    declared; with fewer qualified bids than the method's minimum the tender fails (流标)."""
    require(actor, "tender.manage", tender)
    tender = lock_tender(tender)
    TENDER_MACHINE.check(tender.state, TenderState.EVALUATING)
    pending = db.session.scalar(select(func.count()).select_from(Bid).where(
        Bid.tender_id == tender.id, Bid.state == BidState.OPENED))
    if pending:
        raise ValidationError(_l("Review the qualification of every bid first (%(n)d left).", n=pending))
    qualified = db.session.scalar(select(func.count()).select_from(Bid).where(
        Bid.tender_id == tender.id, Bid.state == BidState.QUALIFIED))
    mp = policy.method_policy(tender.method)
    if qualified < mp.min_bids:
        reason = _l("%(n)d qualified bid(s); the method needs at least %(min)d (%(source)s).", n=qualified,
                    min=mp.min_bids, source=mp.source("min_bids"))
        with force_locale(_default_locale()):
            text = str(reason)
        fail_tender(actor, tender, text)
        return tender
    if not committee_complete(tender):
        raise ValidationError(_l("The committee is not complete: every member must declare first."))
    TENDER_MACHINE.transition(tender, TenderState.EVALUATING, actor)
    notices.scoring_open(actor, tender, [m.user for m in members_of(tender, active_only=True)])
    return tender


def fail_tender(actor, tender: Tender, reason: str) -> Tender:
    """The tender fails (流标) with ``reason``; the project can be tendered again."""
    TENDER_MACHINE.transition(tender, TenderState.FAILED, actor, reason=reason,
                              values={"reason": reason, "next_event": None, "next_event_at": None})
    project = db.session.get(Project, tender.project_id)
    if project.state == ProjectState.TENDERING:
        PROJECT_MACHINE.transition(project, ProjectState.APPROVED, actor, reason=reason)
    notices.tender_failed(actor, tender, reason)
    return tender


# --- scores ---------------------------------------------------------------------------


def scoring_criteria(tender: Tender) -> list[TenderCriterion]:
    return [c for c in tender.criteria if not c.is_price]


def scored_bids(tender: Tender) -> list[Bid]:
    """The bids the committee scores (qualified, or already scored)."""
    return list(db.session.scalars(select(Bid).where(
        Bid.tender_id == tender.id, Bid.state.in_([BidState.QUALIFIED, BidState.SCORED, BidState.AWARDED,
                                                   BidState.NOT_AWARDED])).order_by(Bid.id)))


def plain(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent (70.00 → "70", 7.50 → "7.5")."""
    return format(value.normalize(), "f")


def parse_score(raw, maximum: Decimal) -> Decimal:
    """A typed score: a number from 0 to ``maximum`` with at most two decimals."""
    text = "" if raw is None else str(raw).strip()
    if has_control_chars(text) or len(text) > 12:
        raise ValueError(_l("Type a number."))
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(_l("Type a number.")) from None
    if not value.is_finite():
        raise ValueError(_l("Type a number."))
    # the range first: quantizing 1e400 would overflow the context's precision
    if value < 0 or value > maximum:
        raise ValueError(_l("A score from 0 to %(max)s.", max=plain(maximum)))
    if value != value.quantize(TWO_PLACES):
        raise ValueError(_l("At most two decimals."))
    return value.quantize(TWO_PLACES)


def my_scores(member: CommitteeMember) -> dict[tuple[int, int], Score]:
    return {(s.bid_id, s.criterion_id): s for s in db.session.scalars(
        select(Score).where(Score.member_id == member.id))}


def save_scores(actor, tender: Tender, values: dict, *, submit: bool = False) -> list[Score]:
    """A member saves (or submits) their scores: ``values`` maps (bid id, criterion id)
    to the typed score. Every value is checked before anything is written; submitting
    needs a score for every qualified bid and criterion and locks them all."""
    require(actor, "tender.evaluate", tender)
    member = member_for(actor, tender)
    if member is None or member.state != MemberState.DECLARED:
        raise NotPermitted(_l("You are not allowed to do this."))
    if tender.state != TenderState.EVALUATING:
        raise InvalidTransition(_l("Scores are given while the call is under evaluation."))
    # The member's row, locked: a second submission of the same member waits here.
    db.session.execute(select(CommitteeMember.id).where(CommitteeMember.id == member.id).with_for_update())
    existing = my_scores(member)
    if any(s.submitted_at is not None for s in existing.values()):
        raise Conflict(_l("Your scores are submitted and locked; they cannot be changed."))
    bids = {b.id: b for b in scored_bids(tender) if b.state == BidState.QUALIFIED}
    criteria = {c.id: c for c in scoring_criteria(tender)}
    parsed: dict[tuple[int, int], Decimal] = {}
    for key, raw in values.items():
        bid_id, crit_id = key
        if bid_id not in bids or crit_id not in criteria:
            raise ValidationError(_l("A score names a bid or criterion that is not scored here."))
        if raw is None or str(raw).strip() == "":
            continue
        try:
            parsed[key] = parse_score(raw, criteria[crit_id].max_score)
        except ValueError as exc:
            raise ValidationError(_l("%(bidder)s, %(criterion)s: %(error)s", bidder=bids[bid_id].organization.name,
                                     criterion=criteria[crit_id].name, error=exc.args[0]),
                                  field=f"s_{bid_id}_{crit_id}") from None
    if submit:
        missing = [(b, c) for b in bids for c in criteria if (b, c) not in parsed and (b, c) not in existing]
        if missing:
            b, c = missing[0]
            raise ValidationError(_l("Score every criterion of every bid before submitting (%(n)d missing, "
                                     "first: %(bidder)s, %(criterion)s).", n=len(missing),
                                     bidder=bids[b].organization.name, criterion=criteria[c].name))
    now = utcnow()
    out = []
    for key, value in parsed.items():
        row = existing.get(key)
        if row is None:
            row = Score(member_id=member.id, bid_id=key[0], criterion_id=key[1], score=value)
            db.session.add(row)
            existing[key] = row
        else:
            row.score = value
        out.append(row)
    db.session.flush()
    if submit:
        done = db.session.execute(update(Score).where(Score.member_id == member.id, Score.submitted_at.is_(None))
                                  .values(submitted_at=now).execution_options(synchronize_session=False))
        if done.rowcount != len(existing):
            raise Conflict(STALE)
        for row in existing.values():
            row.submitted_at = now
        names = {c.id: c.name for c in scoring_criteria(tender)}
        audit.record(actor, "score.submit", member, after={"scores": [
            {"bid_id": b, "criterion": names.get(c, str(c)), "score": str(s.score)}
            for (b, c), s in sorted(existing.items())]})
        notices.scores_submitted(actor, tender, member)
    elif parsed:
        audit.record(actor, "score.save", member, after={"count": len(parsed)})
    return out


def submitted(member: CommitteeMember) -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(Score).where(
        Score.member_id == member.id, Score.submitted_at.is_not(None))))


# --- totals and ranking ------------------------------------------------------------------


@dataclass
class BidResult:
    bid: Bid
    technical: Decimal
    price_score: Decimal
    total: Decimal
    rank: int = 0
    #: member id → {criterion id → score}
    by_member: dict | None = None


def round3(value: Decimal) -> Decimal:
    return value.quantize(THREE_PLACES, rounding=ROUND_HALF_UP)


def price_score(lowest: Decimal, price: Decimal, weight: Decimal) -> Decimal:
    """lowest valid price / price × price weight (a zero price scores the full weight)."""
    if price <= 0:
        return round3(weight)
    return round3(lowest / price * weight)


def ranking_key(r: BidResult) -> tuple:
    """The order of the ranking: the higher total, then the lower price, then the higher
    technical score (DOMAIN.md §5), then the earlier submission."""
    return (-r.total, r.bid.price, -r.technical, r.bid.submitted_at or utcnow(), r.bid.id)


def results(tender: Tender, members: list[CommitteeMember] | None = None) -> list[BidResult]:
    """Totals of the scored bids, ranked (DOMAIN.md §5): by total, then lower price, then
    higher technical score, then earlier submission."""
    members = members if members is not None else [
        m for m in members_of(tender) if m.state == MemberState.DECLARED]
    bids = scored_bids(tender)
    if not bids:
        return []
    criteria = scoring_criteria(tender)
    lowest = min(b.price for b in bids)
    ids = [m.id for m in members]
    table: dict[int, dict[int, dict[int, Decimal]]] = {}
    for s in db.session.scalars(select(Score).where(Score.member_id.in_(ids), Score.submitted_at.is_not(None))):
        table.setdefault(s.bid_id, {}).setdefault(s.member_id, {})[s.criterion_id] = s.score
    out = []
    for bid in bids:
        per_member = table.get(bid.id, {})
        sums = [sum((per_member.get(m, {}).get(c.id, Decimal(0)) / c.max_score * c.weight for c in criteria),
                    Decimal(0)) for m in ids]
        technical = round3(sum(sums, Decimal(0)) / len(sums)) if sums else Decimal("0.000")
        ps = price_score(lowest, bid.price, tender.price_weight)
        out.append(BidResult(bid, technical, ps, technical + ps, by_member=per_member))
    out.sort(key=ranking_key)
    for i, r in enumerate(out, start=1):
        r.rank = i
    return out


def rank_bids(actor, tender: Tender) -> list[BidResult]:
    """Once every member submitted: each qualified bid → scored with its total and rank;
    the ranking is audited on the tender and the evaluation report is rendered."""
    require(actor, "tender.manage", tender)
    tender = lock_tender(tender)
    if tender.state != TenderState.EVALUATING:
        raise InvalidTransition(_l("The ranking is computed while the call is under evaluation."))
    if db.session.scalar(select(func.count()).select_from(Bid).where(
            Bid.tender_id == tender.id, Bid.state == BidState.SCORED)):
        raise Conflict(_l("The bids have already been ranked."))
    members = [m for m in members_of(tender) if m.state == MemberState.DECLARED]
    waiting = [m for m in members if not submitted(m)]
    if waiting or not committee_complete(tender):
        raise ValidationError(_l("Every member must submit their scores first (%(n)d waiting).",
                                 n=len(waiting) or 1))
    ranked = results(tender, members)
    for r in ranked:
        BID_MACHINE.transition(r.bid, BidState.SCORED, actor, values={"total_score": r.total, "rank": r.rank},
                               extra={"technical": str(r.technical), "price_score": str(r.price_score)})
    audit.record(actor, "evaluation.rank", tender, after={"ranking": [
        {"bid_id": r.bid.id, "organization_id": r.bid.organization_id, "price": str(r.bid.price),
         "technical": str(r.technical), "price_score": str(r.price_score), "total": str(r.total), "rank": r.rank}
        for r in ranked]})
    request_report(actor, tender)
    return ranked


# --- the evaluation report (评审报告) ---------------------------------------------------

REPORT_JOB = "tender.evaluation_report"
REPORT_TASK = "workers.evaluation.evaluation_report"
jobs.register_task(REPORT_JOB, REPORT_TASK)


def request_report(actor, tender: Tender):
    """Queue the evaluation report's PDF (rendered by a worker after the commit)."""
    require(actor, "tender.manage", tender)
    return jobs.create_job(actor, REPORT_JOB, {"tender_id": tender.id,
                                               "locale": getattr(actor, "locale", None) or _default_locale()})


def report_context(tender: Tender) -> dict:
    members = [m for m in members_of(tender) if m.state == MemberState.DECLARED]
    return {"tender": tender, "project": db.session.get(Project, tender.project_id), "members": members,
            "others": [m for m in members_of(tender) if m.state != MemberState.DECLARED],
            "criteria": scoring_criteria(tender), "results": results(tender, members),
            "disqualified": list(db.session.scalars(select(Bid).where(
                Bid.tender_id == tender.id, Bid.state == BidState.DISQUALIFIED).order_by(Bid.id))),
            "draw": current_draw(tender)}


def report_pdf(tender: Tender, locale: str = "zh_CN") -> bytes:
    with force_locale(locale):
        return render_pdf("pdf/evaluation_report.html", locale=locale, title=_("Evaluation report"),
                          generated=to_local(utcnow()).strftime("%Y-%m-%d %H:%M"), **report_context(tender))


def build_report(job):
    """The job's work in the worker: render and store the report on the tender."""
    tender = db.session.get(Tender, job.params["tender_id"])
    jobs.job_progress(job.id, 0, 2, _("Rendering the PDF"))
    data = report_pdf(tender, job.params.get("locale") or "zh_CN")
    jobs.job_progress(job.id, 1, 2, _("Storing the document"))
    return store_document(job.requested_by, data, f"评审报告-{tender.id}.pdf", "application/pdf",
                          "evaluation_report", obj=tender, permission="tender.manage")


# The module's permission rules (and, through them, the award's services). Imported last:
# the award imports names of this module, so importing this one first must not cycle.
from . import services as _rules  # noqa: E402,F401
