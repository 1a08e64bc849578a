"""Time events of tenders (``Tender.next_event`` at ``next_event_at``), applied by the beat
task ``workers.tenders.apply_due_events`` every minute.

A small dispatcher: one handler per :class:`TenderEvent` (:func:`register`), called with
the tender read under an exclusive row lock and only if its event is still due, so two
workers at the same minute apply it once (the second waits for the lock, then finds the
event moved on). Each tender is its own transaction. A handler sets the next event
(or clears it) itself.

The opening (:func:`open_bids`): decrypt each submitted bid, check its hash against its
receipt, write the opening record (bidders, prices, time) to the audit chain on the
tender, then the tender is closed — or failed (流标) with fewer valid bids than the
method's minimum, the project back to approved (its money stays reserved). The opening
record PDF is rendered by a job in a worker and sent to the bidders. Without the master
key nothing is written: the event stays due, the officers are told why, and the bids
open at the first run after the key is back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import audit, policy
from ..auth.models import User, UserStatus
from ..documents.models import Document
from ..documents.services import store_document
from ..errors import DomainError, SealingKeyUnavailable, SealTampered
from ..extensions import db
from ..jobs import services as jobs
from ..pdf import render_pdf
from ..projects.models import PROJECT_MACHINE, ProjectState
from ..roles import Role
from ..timeutil import to_local, utcnow
from . import content as bundle
from . import notices
from .models import BID_MACHINE, TENDER_MACHINE, Bid, BidState, Tender, TenderEvent, TenderState

log = logging.getLogger(__name__)

T, B = TenderState, BidState

HANDLERS: dict[TenderEvent, Callable[[Tender, datetime], None]] = {}

OPENING_PDF = "tender.opening_record"
OPENING_TASK = "workers.tenders.opening_record"
jobs.register_task(OPENING_PDF, OPENING_TASK)


def register(event: TenderEvent):
    """Decorator: ``fn(tender, now)`` applies ``event`` to a locked tender (flushes)."""
    def deco(fn):
        HANDLERS[TenderEvent(event)] = fn
        return fn
    return deco


def due_tenders(now: datetime, limit: int = 200) -> list[int]:
    return list(db.session.scalars(select(Tender.id).where(Tender.next_event_at <= now)
                                   .order_by(Tender.next_event_at, Tender.id).limit(limit)))


def apply_event(tender_id: int, now: datetime | None = None) -> str:
    """Apply the due event of one tender in its own transaction (commits). Returns what
    happened: "applied:<event>", "not_due" (already applied by another worker), or
    "waiting: <message>" when it could not be applied (nothing written)."""
    now = now or utcnow()
    tender = db.session.scalars(select(Tender).where(Tender.id == tender_id).with_for_update(of=Tender)
                                .execution_options(populate_existing=True)).one_or_none()
    if tender is None or tender.next_event is None or tender.next_event_at > now:
        db.session.rollback()
        return "not_due"
    event = tender.next_event
    handler = HANDLERS.get(event)
    if handler is None:  # a part of the system not installed yet: leave it due
        db.session.rollback()
        return f"waiting: no handler for {event.value}"
    try:
        handler(tender, now)
        db.session.commit()  # each tender's event is its own unit of work (the beat task has no view)
        return f"applied:{event.value}"
    except DomainError as exc:
        db.session.rollback()
        message = str(exc.message)
        log.warning("tender %s: %s not applied: %s", tender_id, event.value, message)
        if isinstance(exc, SealingKeyUnavailable):
            tender = db.session.get(Tender, tender_id)
            notices.opening_blocked(tender, message)
            db.session.commit()  # stands apart: the officers are told although the event was rolled back
        return f"waiting: {message}"


def apply_due_events(now: datetime | None = None) -> list[str]:
    """Every due event (the beat's task). Idempotent."""
    now = now or utcnow()
    ids = due_tenders(now)
    db.session.rollback()
    return [apply_event(tid, now) for tid in ids]


@register(TenderEvent.DEADLINE)
def _deadline(tender: Tender, now: datetime) -> None:
    """The deadline passed; the opening comes later: wait for it."""
    tender.next_event, tender.next_event_at = TenderEvent.OPENING, tender.opening_at
    db.session.flush()


@register(TenderEvent.OPENING)
def _opening(tender: Tender, now: datetime) -> None:
    open_bids(tender, now)


def _org_name(bid: Bid) -> str:
    return bid.organization.name if bid.organization is not None else f"#{bid.organization_id}"


def open_bids(tender: Tender, now: datetime) -> dict:
    """The opening of a locked, published tender (see the module). Flushes."""
    if tender.state != T.PUBLISHED:
        tender.next_event = tender.next_event_at = None
        db.session.flush()
        return {}
    bundle.data_key(tender)  # SealingKeyUnavailable before anything is written
    bids = db.session.scalars(select(Bid).where(Bid.tender_id == tender.id, Bid.state == B.SUBMITTED)
                              .order_by(Bid.submitted_at, Bid.id).with_for_update(of=Bid)
                              .execution_options(populate_existing=True)).all()
    lines = []
    for bid in bids:
        error, price = None, None
        try:
            content = bundle.open_bundle(tender, bid, verify=True)
            price = Decimal(content["price"])
            if bid.needs_reconfirmation:
                error = str(_l("Not confirmed after a clarification that moved the deadline."))
        except SealTampered as exc:
            error = str(exc.message)
        except (KeyError, TypeError, ValueError, InvalidOperation):
            error = str(_l("The bid's content cannot be read."))
        BID_MACHINE.transition(bid, B.OPENED, None, values={
            "opened_at": now, "price": price if error is None else None, "open_error": error})
        lines.append({"bid_id": bid.id, "organization_id": bid.organization_id, "organization": _org_name(bid),
                      "receipt_no": bid.receipt_no, "sha256": bid.sealed_sha256,
                      "submitted_at": bid.submitted_at.isoformat(), "price": str(price) if error is None else None,
                      "valid": error is None, "error": error})
    valid = sum(1 for x in lines if x["valid"])
    mp = policy.method_policy(tender.method)
    record = {"opened_at": now.isoformat(), "bids": lines, "valid": valid, "min_bids": mp.min_bids}
    audit.record(None, "tender.opening_record", tender, after={"opening_record": record})
    if valid < mp.min_bids:
        reason = str(_l("%(valid)d valid bid(s), fewer than the %(min)d this method needs (%(source)s).",
                        valid=valid, min=mp.min_bids, source=mp.source("min_bids")))
        TENDER_MACHINE.transition(tender, T.FAILED, None, reason=reason, values={
            "opened_at": now, "reason": reason, "next_event": None, "next_event_at": None})
        from .bidding import lock_project

        project = lock_project(tender.project_id)
        if project.state == ProjectState.TENDERING:
            PROJECT_MACHINE.transition(project, ProjectState.APPROVED, None, reason=reason)
    else:
        TENDER_MACHINE.transition(tender, T.CLOSED, None, values={
            "opened_at": now, "next_event": None, "next_event_at": None})
    jobs.create_job(None, OPENING_PDF, {"tender_id": tender.id})
    return record


def opening_record(tender: Tender) -> dict | None:
    """The opening record of ``tender`` from its audit event (None before the opening)."""
    ev = db.session.scalar(select(audit.AuditEvent).where(
        audit.AuditEvent.object_type == "tenders", audit.AuditEvent.object_id == str(tender.id),
        audit.AuditEvent.action == "tender.opening_record").order_by(audit.AuditEvent.seq.desc()).limit(1))
    return ev.after["opening_record"] if ev is not None else None


def opening_pdf(tender: Tender, record: dict, locale: str = "zh_CN") -> bytes:
    with force_locale(locale):
        return render_pdf("pdf/opening_record.html", locale=locale, tender=tender, record=record,
                          opened=to_local(tender.opened_at).strftime("%Y-%m-%d %H:%M:%S"),
                          title=_("Opening record"))


def bidder_staff(tender: Tender) -> list[User]:
    entered = select(Bid.organization_id).where(Bid.tender_id == tender.id, Bid.opened_at.is_not(None))
    return list(db.session.scalars(select(User).where(User.role == Role.ORG, User.status == UserStatus.ACTIVE,
                                                      User.organization_id.in_(entered)).order_by(User.id)))


def build_opening_pdf(job) -> object:
    """The job's work: render the opening record, store it, send it to the bidders."""
    tender = db.session.get(Tender, job.params["tender_id"])
    record = opening_record(tender)
    if record is None:
        raise jobs.JobRefused(_l("The bids of this call have not been opened."))
    data = opening_pdf(tender, record)
    doc = store_document(None, data, f"开标记录-{tender.id}.pdf", "application/pdf", "opening_record", tender,
                         permission="call.view")
    people = bidder_staff(tender) + notices.department_officers(tender)
    if tender.state == T.FAILED:
        notices.failed(tender, people, tender.reason or "")
    else:
        notices.opened(tender, people, doc.id)
    return doc


def opening_document(tender: Tender):
    return db.session.scalar(select(Document).where(Document.kind == "opening_record", Document.object_type ==
                                                    "tenders", Document.object_id == str(tender.id))
                             .order_by(Document.id.desc()).limit(1))
