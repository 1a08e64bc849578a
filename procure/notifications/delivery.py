"""Delivering one outbox row through SMTP (Flask-Mail), exactly once.

The row is locked (``SELECT … FOR UPDATE``) for the whole attempt: a second task for the
same row waits, then finds it sent and does nothing. The state is committed right after
the SMTP server accepts the message. (If the worker dies between the two, the row is
still queued and will be sent again: the Message-ID stays the same, so a receiving
server or client can drop the copy.)
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from flask_mail import Message
from sqlalchemy import select, update

from ..extensions import db, mail
from ..timeutil import utcnow
from .models import Notification, NotificationState
from .services import mark_sent, record_failure

log = logging.getLogger(__name__)

#: A task arriving this much before the row's next attempt is due is a duplicate
#: (the sweep and a retry both hold the id): it leaves the row alone.
EARLY_TOLERANCE = timedelta(seconds=2)


def _is_permanent(exc: Exception) -> bool:
    """5xx answers about the recipient or the message will not get better by waiting."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPServerDisconnected)
    return False


def deliver(note_id: int) -> float | None:
    """Try to send the row. Returns the delay before a retry, or None when there is
    nothing more to do (sent, failed for good, not found, or not yet due). Commits."""
    note = db.session.scalar(select(Notification).where(Notification.id == note_id).with_for_update())
    if note is None:  # never committed, or rolled back: nothing to send
        log.warning("notification %s not found", note_id)
        db.session.rollback()
        return None
    if note.state != NotificationState.QUEUED:
        db.session.rollback()
        return None
    if note.next_attempt_at and note.next_attempt_at - EARLY_TOLERANCE > utcnow():
        db.session.rollback()
        return None
    msg = Message(subject=note.subject, recipients=[note.to_email], body=note.body_text,
                  html=note.body_html, extra_headers={"X-Procure-Rule": note.rule})
    msg.msgId = note.message_id
    try:
        mail.send(msg)
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        delay = record_failure(note, f"{type(exc).__name__}: {exc}", permanent=_is_permanent(exc))
        db.session.commit()
        return delay
    mark_sent(note)
    db.session.commit()
    return None


def claim_overdue(grace: timedelta = timedelta(seconds=60), limit: int = 5000) -> list[int]:
    """Queued rows whose attempt is overdue by more than ``grace`` (their dispatch after
    commit was lost, e.g. the broker was down). Each claimed row's next attempt is set to
    now, so the next sweep leaves it alone for another ``grace`` while its task waits in
    the queue (a duplicate would be harmless, only wasteful). Commits.

    In the normal case every row was handed to the worker at its commit and this finds
    nothing."""
    now = utcnow()
    overdue = (select(Notification.id).where(Notification.state == NotificationState.QUEUED,
                                             Notification.next_attempt_at <= now - grace)
               .order_by(Notification.id).limit(limit))
    ids = list(db.session.scalars(
        update(Notification).where(Notification.id.in_(overdue.scalar_subquery()))
        .values(next_attempt_at=now).returning(Notification.id)))
    db.session.commit()
    return sorted(ids)
