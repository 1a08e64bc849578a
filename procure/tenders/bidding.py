"""Tendering part A: calls (create, edit, documents, publish, clarify, cancel) and bids
(draft, submit, withdraw, resubmit, confirm), sealed by encryption.

Sealing: a bid's content lives only in ``Bid.sealed_content`` (AES-GCM under the
tender's data key, ``content.py``), drafts included; attachments are stored as
ciphertext Documents under a neutral name. Nothing here tells anyone but the bidding
organization that a bid exists before the opening: no notice, no audit line readable on
the audit page (:func:`_sealed_events`), no count.

Time: every time is naive UTC in the database; the deadline is checked against the
server's clock under a shared lock on the tender row, which the opening takes
exclusively, so a submission and the opening never interleave.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, cast, or_, select, update
from sqlalchemy.exc import IntegrityError

from .. import audit, calendar, permissions, policy, workflow
from ..auth.models import User, UserStatus
from ..documents.models import Document
from ..documents.services import read_document, store_document
from ..errors import Conflict, InvalidTransition, NotPermitted, ValidationError
from ..extensions import db
from ..organizations.models import Organization, OrgKind, RegStatus
from ..organizations.services import eligibility_for_call
from ..parsing import parse_amount, parse_id
from ..permissions import Scope, require, role_in
from ..projects.models import PROJECT_MACHINE, ProcurementMethod, Project, ProjectState
from ..roles import Role
from ..timeutil import SHANGHAI, to_local, utcnow
from . import content as bundle
from . import invitations, notices
from .models import (
    BID_MACHINE,
    TENDER_MACHINE,
    Bid,
    BidState,
    Clarification,
    Tender,
    TenderCriterion,
    TenderDocument,
    TenderEvent,
    TenderState,
)

T, B = TenderState, BidState

#: Calls an organization may read: published (and later) ones; single source only its own.
_PUBLIC_STATES = (T.PUBLISHED, T.CLOSED, T.EVALUATING, T.AWARDED, T.FINAL, T.FAILED)


def _call_check(user, tender) -> bool:
    if tender is None or tender.state not in _PUBLIC_STATES:
        return False
    return invitations.may_answer(tender, user.organization_id)


def _call_where(user, model):
    return and_(model.state.in_(list(_PUBLIC_STATES)), invitations.answer_clause(model, user.organization_id))


CALL_READABLE = Scope(_call_check, _call_where, "[call published]")
#: Reading a published call and its documents (organizations; staff read through tender.view).
permissions.define("call.view", {Role.ORG, Role.ADMIN, Role.OFFICER, Role.FINANCE},
                   role_in(Role.ADMIN, Role.FINANCE) | (role_in(Role.OFFICER) & permissions.own_department())
                   | (role_in(Role.ORG) & CALL_READABLE), model=Tender)

#: Open tender states (one per project at a time).
LIVE = (T.DRAFT, T.PUBLISHED, T.CLOSED, T.EVALUATING, T.AWARDED, T.FINAL)

CALL_DOCUMENT_TYPES = {"pdf", "docx", "xlsx"}
BID_ATTACHMENT_TYPES = {"pdf", "docx", "xlsx", "png", "jpeg"}
#: Neutral stored name and type of a sealed attachment (the real ones are in the bundle).
SEALED_NAME, SEALED_TYPE = "sealed.bin", "application/octet-stream"

#: Budget breakdown categories of a bid; "admin" is capped by budget.max_admin_cost_share.
BREAKDOWN_CATEGORIES = {
    "personnel": _l("Personnel"), "activities": _l("Service activities"), "materials": _l("Materials and supplies"),
    "admin": _l("Administrative costs"), "other": _l("Other costs"),
}
MAX_TEXT = 20000
MAX_LINES = 50


def max_attachment_bytes() -> int:
    return int(current_app.config.get("BID_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024))


# --- time -------------------------------------------------------------------------------

def local_to_utc(value: datetime | None) -> datetime | None:
    """A naive Asia/Shanghai datetime (as typed in a form) as naive UTC (as stored)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value.astimezone(UTC).replace(tzinfo=None)


def shown(value: datetime | None) -> str:
    """A stored time as Beijing time text."""
    return to_local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _period_rule(mp: policy.MethodPolicy, field_: str, n: int, unit: str) -> str:
    unit_label = _l("calendar days") if unit == policy.CALENDAR_DAYS else _l("working days")
    return str(_l("%(rule)s: %(n)d %(unit)s (%(source)s)", rule=policy.rule(mp.keys[field_]).description,
                  n=n, unit=unit_label, source=mp.source(field_)))


def period_after(start_utc: datetime, n: int, unit: str) -> datetime:
    """``n`` days of ``unit`` after ``start_utc``, counted on Beijing days: calendar days
    end on the n-th day (moved to the next working day when that is a rest day or holiday,
    民法典 第二百零三条), working days on the n-th working day; at the same clock time.
    CalendarNotEntered (a clear message) for a year the calendar does not know."""
    local = to_local(start_utc)
    day = local.date()
    end = calendar.add_working_days(day, n) if unit == policy.WORKING_DAYS else calendar.period_end(day, n)
    return local_to_utc(datetime.combine(end, local.time().replace(second=0, microsecond=0)))


def earliest_deadline(method, published_at: datetime) -> datetime:
    mp = policy.method_policy(method)
    return period_after(published_at, mp.min_period, mp.period_unit)


# --- calls ------------------------------------------------------------------------------

@dataclass
class CriterionData:
    name: str
    weight: object
    max_score: object


@dataclass
class TenderData:
    project_id: object
    title: str
    method: object
    published_at: datetime | None  # planned publication, naive UTC
    deadline_at: datetime | None  # naive UTC
    opening_at: datetime | None  # naive UTC
    description: str = ""
    min_rating: object = None
    min_years_registered: object = None
    require_annual_report: bool = True
    require_good_credit: bool = True
    bar_failed_grade: bool = True
    admit_filed: bool = False
    price_weight: object = "10"
    criteria: list[CriterionData] = field(default_factory=list)
    single_source_organization_id: object = None


def _text(value, name: str, limit: int, *, required: bool = True) -> str:
    text = (value or "").strip()
    if any(ord(c) < 32 and c not in "\n\r\t" for c in text):
        raise ValidationError(_l("The text contains control characters."), field=name)
    if required and not text:
        raise ValidationError(_l("This field is required."), field=name)
    if len(text) > limit:
        raise ValidationError(_l("The text is too long (at most %(n)d characters).", n=limit), field=name)
    return text


def _weight(value, name: str) -> Decimal:
    try:
        w = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        w = None
    if w is None or not w.is_finite() or w < 0 or w > 100 or w != w.quantize(Decimal("0.01")):
        raise ValidationError(_l("A weight is a number from 0 to 100 with at most two decimals."), field=name)
    return w.quantize(Decimal("0.01"))


def _small_int(value, name: str, lo: int, hi: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        n = int(str(value).strip())
    except ValueError:
        n = None
    if n is None or not lo <= n <= hi:
        raise ValidationError(_l("Enter a whole number from %(lo)d to %(hi)d.", lo=lo, hi=hi), field=name)
    return n


def check_times(method, published_at, deadline_at, opening_at, *, now: datetime | None = None) -> None:
    """The call's times: publication not in the past, the deadline no earlier than the
    method's minimum period allows (refused with the rule and its source), opening at
    or after the deadline."""
    now = now or utcnow()
    if published_at is None or deadline_at is None or opening_at is None:
        raise ValidationError(_l("Give the publication time, the bid deadline and the opening time."),
                              field="deadline_at")
    if published_at < now - timedelta(minutes=5):
        raise ValidationError(_l("The publication time is in the past."), field="published_at")
    earliest = earliest_deadline(method, published_at)
    if deadline_at < earliest:
        mp = policy.method_policy(method)
        raise ValidationError(_l(
            "The bid deadline can be %(earliest)s (Beijing time) at the earliest: %(rule)s.",
            earliest=shown(earliest), rule=_period_rule(mp, "min_period", mp.min_period, mp.period_unit)),
            field="deadline_at")
    if opening_at < deadline_at:
        raise ValidationError(_l("The opening cannot come before the bid deadline."), field="opening_at")
    if opening_at > deadline_at + timedelta(days=30):
        raise ValidationError(_l("Open the bids within 30 days of the deadline."), field="opening_at")


def _validate_tender(data: TenderData, tender: Tender | None) -> dict:
    v: dict = {}
    v["title"] = _text(data.title, "title", 200)
    v["description"] = _text(data.description, "description", MAX_TEXT, required=False)
    try:
        v["method"] = ProcurementMethod(data.method)
    except ValueError:
        raise ValidationError(_l("Choose a procurement method."), field="method") from None
    v["min_rating"] = _small_int(data.min_rating, "min_rating", 1, 5)
    v["min_years_registered"] = _small_int(data.min_years_registered, "min_years_registered", 0, 50)
    for name in ("require_annual_report", "require_good_credit", "bar_failed_grade", "admit_filed"):
        v[name] = bool(getattr(data, name))
    mp = policy.method_policy(v["method"])
    price_weight = _weight(data.price_weight, "price_weight")
    floor = (mp.min_price_weight * 100).quantize(Decimal("0.01"))
    if price_weight < floor:
        raise ValidationError(_l("The price weight must be at least %(min)s%%: %(source)s.", min=floor,
                                 source=mp.source("min_price_weight")), field="price_weight")
    v["price_weight"] = price_weight
    criteria, total = [], price_weight
    for c in data.criteria:
        name = (c.name or "").strip()
        if not name and str(c.weight or "").strip() in ("", "0") and not str(c.max_score or "").strip():
            continue
        name = _text(name, "criteria", 200)
        w = _weight(c.weight, "criteria")
        if w <= 0:
            raise ValidationError(_l("Each criterion needs a weight above 0."), field="criteria")
        ms = _weight(c.max_score if str(c.max_score or "").strip() else w, "criteria")
        if ms <= 0:
            raise ValidationError(_l("Each criterion needs a maximum score above 0."), field="criteria")
        total += w
        criteria.append(TenderCriterion(position=len(criteria), name=name, weight=w, max_score=ms))
    if not criteria and price_weight != 100:
        raise ValidationError(_l("Give at least one scoring criterion besides the price."), field="criteria")
    if total != 100:
        raise ValidationError(_l("The weights (price included) add up to %(total)s, not 100.", total=total),
                              field="criteria")
    criteria.append(TenderCriterion(position=len(criteria), name=str(_l("Price")), weight=price_weight,
                                    max_score=price_weight if price_weight > 0 else Decimal("1"), is_price=True))
    v["criteria"] = criteria
    org_id = parse_id(data.single_source_organization_id) if data.single_source_organization_id not in (None, "") \
        else None
    if v["method"] == ProcurementMethod.SINGLE_SOURCE:
        org = db.session.get(Organization, org_id) if org_id else None
        if org is None:
            raise ValidationError(_l("A single-source call names its one organization."),
                                  field="single_source_organization_id")
        v["single_source_organization_id"] = org.id
    else:
        v["single_source_organization_id"] = None
    check_times(v["method"], data.published_at, data.deadline_at, data.opening_at)
    v["published_at"], v["deadline_at"], v["opening_at"] = data.published_at, data.deadline_at, data.opening_at
    return v


def _project_for_tender(actor, project_id) -> Project:
    pid = parse_id(project_id)
    project = lock_project(pid) if pid else None
    if project is None or not permissions.can(actor, "project.edit", project):
        raise ValidationError(_l("Choose a project of your department."), field="project_id")
    if project.state != ProjectState.APPROVED:
        raise InvalidTransition(_l("A call can be made only for a project whose funds are approved."))
    live = db.session.scalar(select(Tender.id).where(Tender.project_id == project.id, Tender.state.in_(LIVE)))
    if live:
        raise Conflict(_l("This project already has a call in progress."))
    return project


def create_tender(actor, data: TenderData) -> Tender:
    """A draft call for an approved project of the officer's department."""
    require(actor, "tender.create")
    project = _project_for_tender(actor, data.project_id)
    values = _validate_tender(data, None)
    criteria = values.pop("criteria")
    tender = Tender(project_id=project.id, department_id=project.department_id, created_by_id=actor.id,
                    state=T.DRAFT, **values)
    tender.criteria = criteria
    db.session.add(tender)
    db.session.flush()
    audit.record(actor, "tender.create", tender, after=tender.snapshot())
    return tender


def lock_project(project_id: int) -> Project | None:
    """The project read again under a row lock."""
    return db.session.scalars(select(Project).where(Project.id == project_id).with_for_update(of=Project)
                              .execution_options(populate_existing=True)).one_or_none()


def _locked(tender: Tender, *, read: bool = False) -> Tender:
    """``tender`` read again under a row lock (shared with ``read``)."""
    return db.session.scalars(select(Tender).where(Tender.id == tender.id)
                              .with_for_update(read=read, of=Tender).execution_options(populate_existing=True)).one()


def update_tender(actor, tender: Tender, data: TenderData) -> Tender:
    require(actor, "tender.manage", tender)
    tender = _locked(tender)
    if tender.state != T.DRAFT:
        raise InvalidTransition(_l("Only a draft call can be edited; publish a clarification instead."))
    before = tender.snapshot()
    values = _validate_tender(data, tender)
    tender.criteria = values.pop("criteria")
    for key, value in values.items():
        setattr(tender, key, value)
    db.session.flush()
    b, a = audit.diff(before, tender.snapshot())
    if a:
        audit.record(actor, "tender.update", tender, before=b, after=a)
    return tender


def add_call_document(actor, tender: Tender, checked, title: str = "", clarification: Clarification | None = None
                      ) -> TenderDocument:
    """A document of the call (a CheckedUpload of pdf/docx/xlsx), before the deadline."""
    require(actor, "tender.manage", tender)
    if tender.state not in (T.DRAFT, T.PUBLISHED):
        raise InvalidTransition(_l("Documents can be added only before the bid deadline."))
    if checked.type not in CALL_DOCUMENT_TYPES:
        raise ValidationError(_l("Call documents are PDF, Word or Excel files."), field="file")
    title = _text(title or checked.filename, "title", 200)
    doc = store_document(actor, checked.data, checked.filename, checked.content_type, "tender_document", tender,
                         permission="call.view")
    row = TenderDocument(tender_id=tender.id, document_id=doc.id, title=title, position=len(tender.documents),
                         clarification_id=clarification.id if clarification else None)
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "tender.add_document", tender, after={"document": title})
    return row


def _set_event(tender: Tender) -> dict:
    """The tender's next time event after publication or a deadline change."""
    if tender.deadline_at and tender.opening_at and tender.opening_at > tender.deadline_at:
        return {"next_event": TenderEvent.DEADLINE, "next_event_at": tender.deadline_at}
    return {"next_event": TenderEvent.OPENING, "next_event_at": tender.opening_at}


def publish_tender(actor, tender: Tender) -> Tender:
    """draft → published, now: the deadline checked again against today's publication;
    the tender's data key made (refused clearly without the master key); the project
    moves to tendering; matching organizations are told."""
    require(actor, "tender.manage", tender)
    tender = _locked(tender)
    TENDER_MACHINE.check(tender.state, T.PUBLISHED)
    now = utcnow()  # published now: the planned time counted for the draft's check only
    check_times(tender.method, now, tender.deadline_at, tender.opening_at, now=now)
    if not any(not c.is_price for c in tender.criteria) and tender.price_weight != 100:
        raise ValidationError(_l("Give at least one scoring criterion besides the price."))
    if tender.method == ProcurementMethod.INVITED_TENDER:
        mp = policy.method_policy(tender.method)
        n = len(invitations.invited_ids(tender))
        if n < mp.min_bids:
            raise ValidationError(_l("An invited tender invites at least %(min)d organizations (%(source)s); "
                                     "%(n)d invited so far. Add them to the invitation list first.",
                                     min=mp.min_bids, source=mp.source("min_bids"), n=n))
    bundle.ensure_data_key(tender)
    db.session.flush()
    project = lock_project(tender.project_id)
    if project.state != ProjectState.APPROVED:
        raise InvalidTransition(_l("The project is no longer approved: it cannot be tendered."))
    PROJECT_MACHINE.transition(project, ProjectState.TENDERING, actor)
    TENDER_MACHINE.transition(tender, T.PUBLISHED, actor, values={"published_at": now, **_set_event(tender)})
    if invitations.by_invitation(tender):
        notices.invited(actor, tender, audience(tender))
    else:
        notices.published(actor, tender, audience(tender))
    return tender


def audience(tender: Tender) -> list[User]:
    """Staff of the organizations the call is for: the invited ones (invited tender,
    single source), or
    every organization in normal standing that meets the call's kind and rating
    requirements (the full eligibility is checked at submission)."""
    stmt = select(User).join(Organization, Organization.id == User.organization_id).where(
        User.role == Role.ORG, User.status == UserStatus.ACTIVE)
    if invitations.by_invitation(tender):
        stmt = stmt.where(Organization.id.in_(invitations.invited_ids(tender) or {-1}))
    else:
        stmt = stmt.where(Organization.status == RegStatus.NORMAL)
        if not tender.admit_filed:
            stmt = stmt.where(Organization.kind != OrgKind.FILED)
        if tender.min_rating:
            stmt = stmt.where(Organization.rating_level >= tender.min_rating)
    return list(db.session.scalars(stmt.order_by(User.id)))


#: Most documents attached to one clarification.
MAX_CLARIFICATION_FILES = 5


def clarify(actor, tender: Tender, text: str, affects_bids: bool, new_deadline_at: datetime | None = None,
            files=()) -> Clarification:
    """Publish a clarification to all, with its documents (``files``: CheckedUploads of
    PDF, Word or Excel, shown to every bidder and on the portal). One that may affect the
    bids and comes less than the method's clarification period before the deadline pushes
    the deadline (and the opening) out to at least that period from now; bids already
    submitted must then be confirmed again."""
    require(actor, "tender.manage", tender)
    text = _text(text, "text", MAX_TEXT)
    files = list(files or ())
    if len(files) > MAX_CLARIFICATION_FILES:
        raise ValidationError(_l("Attach at most %(n)d files.", n=MAX_CLARIFICATION_FILES), field="files")
    for checked in files:
        if checked.type not in CALL_DOCUMENT_TYPES:
            raise ValidationError(_l("Call documents are PDF, Word or Excel files."), field="files")
    tender = _locked(tender)
    now = utcnow()
    if tender.state != T.PUBLISHED or tender.deadline_at <= now:
        raise InvalidTransition(_l("Clarifications are published while the call is open, before the deadline."))
    mp = policy.method_policy(tender.method)
    needed = period_after(now, mp.clarification_min, mp.clarification_unit)
    old = tender.deadline_at
    late = bool(affects_bids) and old < needed
    target = None
    if new_deadline_at is not None:
        if new_deadline_at <= old:
            raise ValidationError(_l("A new deadline must be later than the current one."), field="new_deadline_at")
        if not affects_bids:
            raise ValidationError(_l("Only a clarification that may affect the bids moves the deadline."),
                                  field="new_deadline_at")
        target = new_deadline_at
    if late and (target is None or target < needed):
        if target is not None:
            raise ValidationError(_l(
                "This clarification comes late: the deadline must move to %(earliest)s (Beijing time) or later: "
                "%(rule)s.", earliest=shown(needed),
                rule=_period_rule(mp, "clarification_min", mp.clarification_min, mp.clarification_unit)),
                field="new_deadline_at")
        target = needed
    clar = Clarification(tender_id=tender.id, text=text, affects_bids=bool(affects_bids), published_by_id=actor.id,
                         published_at=now)
    if target is not None:
        clar.old_deadline_at, clar.new_deadline_at = old, target
        shift = target - old
        before = {"deadline_at": old, "opening_at": tender.opening_at}
        tender.deadline_at, tender.opening_at = target, tender.opening_at + shift
        ev = _set_event(tender)
        tender.next_event, tender.next_event_at = ev["next_event"], ev["next_event_at"]
        db.session.flush()
        audit.record(actor, "tender.update", tender, before=before,
                     after={"deadline_at": tender.deadline_at, "opening_at": tender.opening_at})
        if affects_bids:
            db.session.execute(update(Bid).where(Bid.tender_id == tender.id, Bid.state == B.SUBMITTED)
                               .values(needs_reconfirmation=True).execution_options(synchronize_session=False))
    db.session.add(clar)
    db.session.flush()
    audit.record(actor, "tender.clarify", tender, after=clar.snapshot())
    for checked in files:
        add_call_document(actor, tender, checked, clarification=clar)
    notices.clarified(actor, tender, clar, audience(tender) + _bidders(tender))
    return clar


def _bidders(tender: Tender) -> list[User]:
    """Active staff of organizations holding a bid (any state) on ``tender``."""
    return list(db.session.scalars(select(User).where(
        User.role == Role.ORG, User.status == UserStatus.ACTIVE,
        User.organization_id.in_(select(Bid.organization_id).where(Bid.tender_id == tender.id))).order_by(User.id)))


def cancel_tender(actor, tender: Tender, reason: str) -> Tender:
    """draft/published → cancelled before the opening, with the reason; the project goes
    back to approved (its money still reserved); the call's audience and bidders told."""
    require(actor, "tender.manage", tender)
    reason = _text(reason, "reason", 2000)
    tender = _locked(tender)
    TENDER_MACHINE.check(tender.state, T.CANCELLED)
    if tender.state == T.PUBLISHED:
        project = lock_project(tender.project_id)
        if project.state == ProjectState.TENDERING:
            PROJECT_MACHINE.transition(project, ProjectState.APPROVED, actor, reason=reason)
        people = audience(tender) + _bidders(tender)
    else:
        people = []
    TENDER_MACHINE.transition(tender, T.CANCELLED, actor, reason=reason,
                              values={"reason": reason, "next_event": None, "next_event_at": None})
    if people:
        notices.cancelled(actor, tender, reason, people)
    return tender


# --- bids -----------------------------------------------------------------------------------

def open_calls(actor):
    """Calls an organization's staff may bid on now (published, deadline ahead)."""
    stmt = permissions.visible(actor, "call.view", Tender)
    return stmt.where(Tender.state == T.PUBLISHED, Tender.deadline_at > utcnow()).order_by(Tender.deadline_at)


@dataclass
class LineData:
    category: str
    amount: object
    note: str = ""


@dataclass
class BidData:
    price: object = None
    proposal: str = ""
    breakdown: list[LineData] = field(default_factory=list)
    #: CheckedUploads to add (documents.uploads.check_upload).
    new_attachments: list = field(default_factory=list)
    #: Document ids of attachments to drop.
    remove_attachments: list = field(default_factory=list)


def _parse_price(value) -> str | None:
    if value in (None, ""):
        return None
    return str(parse_amount(value, "price"))


def _parse_lines(lines: list[LineData]) -> list[dict]:
    out = []
    for ln in lines:
        raw = "" if ln.amount is None else str(ln.amount).strip()
        if not (ln.category or "").strip() and not raw and not (ln.note or "").strip():
            continue
        if ln.category not in BREAKDOWN_CATEGORIES:
            raise ValidationError(_l("Choose a category for each budget line."), field="breakdown")
        amount = parse_amount(raw, "breakdown", allow_zero=True)
        out.append({"category": ln.category, "amount": str(amount), "note": _text(ln.note, "breakdown", 200,
                                                                                  required=False)})
    if len(out) > MAX_LINES:
        raise ValidationError(_l("At most %(n)d budget lines.", n=MAX_LINES), field="breakdown")
    return out


def bid_of(actor, tender: Tender) -> Bid | None:
    """The actor's organization's bid on ``tender`` (any state), or None."""
    if actor.organization_id is None:
        return None
    return db.session.scalar(select(Bid).where(Bid.tender_id == tender.id,
                                               Bid.organization_id == actor.organization_id))


def read_bid(actor, bid: Bid) -> dict:
    """The decrypted content of the actor's own bid (the organization's staff only)."""
    require(actor, "bid.view_own", bid)
    return bundle.open_bundle(bid.tender, bid, verify=False)


def _check_open_for(actor, tender: Tender, now: datetime) -> None:
    refused = invitations.refusal(tender, getattr(actor, "organization", None))
    if refused is not None:
        raise NotPermitted(refused.message)
    if not permissions.can(actor, "call.view", tender):
        raise NotPermitted(_l("You may not bid on this call."))
    if tender.state != T.PUBLISHED or tender.deadline_at is None or now >= tender.deadline_at:
        raise InvalidTransition(_l(
            "The bid deadline (%(deadline)s Beijing time) has passed: bids can no longer be saved, submitted or "
            "withdrawn.", deadline=shown(tender.deadline_at)))


def save_bid(actor, tender: Tender, data: BidData) -> Bid:
    """Create or change the organization's draft (or withdrawn) bid; its content is
    sealed whatever its state. Refused after the deadline (server time)."""
    require(actor, "bid.create")
    tender = _locked(tender, read=True)
    now = utcnow()
    _check_open_for(actor, tender, now)
    price = _parse_price(data.price)
    proposal = _text(data.proposal, "proposal", MAX_TEXT, required=False)
    lines = _parse_lines(data.breakdown)
    bid = db.session.scalar(select(Bid).where(Bid.tender_id == tender.id, Bid.organization_id == actor.organization_id)
                            .with_for_update(of=Bid).execution_options(populate_existing=True))
    created = bid is None
    if created:
        bid = Bid(tender_id=tender.id, organization_id=actor.organization_id, state=B.DRAFT, created_by_id=actor.id)
        try:
            with db.session.begin_nested():
                db.session.add(bid)
                db.session.flush()
        except IntegrityError:
            raise Conflict(_l("Someone of your organization started this bid at the same moment. Reload the "
                              "page.")) from None
        old = {"attachments": []}
    else:
        require(actor, "bid.edit", bid)
        if bid.state not in (B.DRAFT, B.WITHDRAWN):
            raise InvalidTransition(_l("A submitted bid cannot be changed: withdraw it first (before the "
                                       "deadline), change it and submit it again."))
        old = bundle.open_bundle(tender, bid, verify=False) if bid.sealed_content else {"attachments": []}
    drop = {parse_id(x) for x in data.remove_attachments}
    attachments = [a for a in old.get("attachments", []) if a["document_id"] not in drop]
    limit = max_attachment_bytes()
    for checked in data.new_attachments:
        if checked.type not in BID_ATTACHMENT_TYPES:
            raise ValidationError(_l("Attachments are PDF, Word, Excel, PNG or JPEG files."), field="attachments")
        if len(checked.data) > limit:
            raise ValidationError(_l("The file is too large."), field="attachments")
        sealed, digest = bundle.seal_attachment(tender, bid.organization_id, checked.data)
        doc = store_document(actor, sealed, SEALED_NAME, SEALED_TYPE, "bid_attachment", bid, permission="bid.edit")
        attachments.append({"document_id": doc.id, "filename": checked.filename, "sha256": digest,
                            "size": len(checked.data), "content_type": checked.content_type})
    if len(attachments) > 20:
        raise ValidationError(_l("At most 20 attachments."), field="attachments")
    content = {"price": price, "proposal": proposal, "breakdown": lines, "attachments": attachments}
    bid.sealed_content, _digest = bundle.seal_bundle(tender, bid.organization_id, content)
    db.session.flush()
    audit.record(actor, "bid.create" if created else "bid.save", bid,
                 after={"tender_id": tender.id, "content": content})
    return bid


def check_complete(tender: Tender, content: dict) -> Decimal:
    """A submittable content: price (at most the ceiling), proposal, breakdown adding up
    to the price with administrative costs under the cap. Returns the price."""
    if not content.get("price"):
        raise ValidationError(_l("Give your price before submitting."), field="price")
    price = Decimal(content["price"])
    ceiling = tender.project.budget_ceiling
    if price > ceiling:
        raise ValidationError(_l("The price is above the call's ceiling of %(ceiling)s yuan.", ceiling=ceiling),
                              field="price")
    if not (content.get("proposal") or "").strip():
        raise ValidationError(_l("Describe your proposal before submitting."), field="proposal")
    lines = content.get("breakdown") or []
    if not lines:
        raise ValidationError(_l("Give the budget breakdown of your price by category."), field="breakdown")
    total = sum((Decimal(x["amount"]) for x in lines), Decimal("0"))
    if total != price:
        raise ValidationError(_l("The budget lines add up to %(total)s, not to the price %(price)s.",
                                 total=total, price=price), field="breakdown")
    cap = policy.value("budget.max_admin_cost_share")
    admin = sum((Decimal(x["amount"]) for x in lines if x["category"] == "admin"), Decimal("0"))
    if admin > (price * cap).quantize(Decimal("0.01")):
        raise ValidationError(_l(
            "Administrative costs (%(admin)s) are above %(share)s%% of the price: %(source)s.", admin=admin,
            share=(cap * 100).normalize(), source=policy.rule("budget.max_admin_cost_share").source),
            field="breakdown")
    return price


def eligibility_reasons(tender: Tender, org: Organization, now: datetime | None = None) -> list:
    refused = invitations.refusal(tender, org)
    return ([refused] if refused else []) + eligibility_for_call(org, to_local(now or utcnow()).date(), tender)


class NotEligible(ValidationError):
    """Eligibility failed at submission: ``reasons`` lists each failed condition."""

    def __init__(self, reasons):
        self.reasons = reasons
        super().__init__(_l("Your organization cannot submit this bid: %(reasons)s",
                            reasons="; ".join(str(r) for r in reasons)))


def submit_bid(actor, bid: Bid) -> Bid:
    """draft/withdrawn → submitted before the deadline: the content complete, the
    organization eligible (each failed condition told), sealed again; the receipt is the
    time and the SHA-256 of exactly the sealed bytes."""
    require(actor, "bid.edit", bid)
    tender = _locked(bid.tender, read=True)
    now = utcnow()
    _check_open_for(actor, tender, now)
    bid = db.session.scalars(select(Bid).where(Bid.id == bid.id).with_for_update(of=Bid)
                             .execution_options(populate_existing=True)).one()
    BID_MACHINE.check(bid.state, B.SUBMITTED)
    if bid.sealed_content is None:
        raise ValidationError(_l("Save your bid before submitting it."))
    content = bundle.open_bundle(tender, bid, verify=False)
    check_complete(tender, content)
    reasons = eligibility_reasons(tender, bid.organization, now)
    if reasons:
        raise NotEligible(reasons)
    sealed, digest = bundle.seal_bundle(tender, bid.organization_id, content)
    bid.sealed_content = sealed
    bid.sealed_sha256 = digest
    db.session.flush()
    receipt = f"HZ{to_local(now):%Y%m%d}-{tender.id}-{bid.id}-{secrets.token_hex(3).upper()}"
    BID_MACHINE.transition(bid, B.SUBMITTED, actor, values={
        "submitted_at": now, "receipt_no": receipt, "needs_reconfirmation": False, "eligibility_failures": [],
        "sealed_sha256": digest})
    return bid


def withdraw_bid(actor, bid: Bid) -> Bid:
    """submitted → withdrawn, before the deadline (it may be changed and submitted again)."""
    require(actor, "bid.edit", bid)
    tender = _locked(bid.tender, read=True)
    _check_open_for(actor, tender, utcnow())
    bid = db.session.scalars(select(Bid).where(Bid.id == bid.id).with_for_update(of=Bid)
                             .execution_options(populate_existing=True)).one()
    return BID_MACHINE.transition(bid, B.WITHDRAWN, actor)


def confirm_bid(actor, bid: Bid) -> Bid:
    """Confirm a submitted bid after a late clarification (before the deadline)."""
    require(actor, "bid.edit", bid)
    tender = _locked(bid.tender, read=True)
    _check_open_for(actor, tender, utcnow())
    result = db.session.execute(update(Bid).where(Bid.id == bid.id, Bid.state == B.SUBMITTED,
                                                  Bid.needs_reconfirmation.is_(True))
                                .values(needs_reconfirmation=False).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(workflow.STALE)
    db.session.refresh(bid)
    audit.record(actor, "bid.confirm", bid, after={"needs_reconfirmation": False})
    return bid


def attachment_data(actor, bid: Bid, document_id: int) -> tuple[dict, bytes]:
    """(attachment entry, plaintext) of one of the actor's own bid's attachments."""
    require(actor, "bid.view_own", bid)
    content = bundle.open_bundle(bid.tender, bid, verify=False)
    entry = next((a for a in content.get("attachments", []) if a["document_id"] == document_id), None)
    doc = db.session.get(Document, document_id) if entry else None
    if doc is None:
        raise ValidationError(_l("No such attachment."))
    return entry, bundle.open_attachment(bid.tender, bid.organization_id, read_document(doc), entry["sha256"])


# --- the audit page keeps sealed bids out until the opening ---------------------------------

def _sealed_events():
    """Audit events that name a bid (or a bid's attachment) of a tender not yet opened."""
    unopened = select(cast(Bid.id, String)).join(Tender, Tender.id == Bid.tender_id).where(Tender.opened_at.is_(None))
    docs = select(cast(Document.id, String)).where(Document.kind == "bid_attachment", Document.object_id.in_(unopened))
    E = audit.AuditEvent
    return or_(and_(E.object_type == "bids", E.object_id.in_(unopened)),
               and_(E.object_type == "documents", E.object_id.in_(docs)))


audit.HIDDEN_EVENTS.append(_sealed_events)
