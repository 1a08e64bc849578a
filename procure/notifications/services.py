"""Writing emails to the outbox and recording their delivery.

``queue_email`` renders the text and HTML parts from ``templates/email/<name>.txt`` and
``.html`` in the recipient's language and adds the row to the current transaction.
When the outermost transaction commits, the row's id is handed to the Celery task
``workers.mail.send_notification`` (``procure.dispatch.after_commit``). If the broker is
unreachable at that moment the row stays queued and the beat sweep sends it.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import dispatch, workflow
from ..extensions import db
from ..timeutil import utcnow
from .models import ALLOWED, Notification, NotificationState

log = logging.getLogger(__name__)

#: Subjects of the emails, by template name (translated in the recipient's language).
SUBJECTS = {
    "password_reset": _l("Reset your Procure password"),
    "welcome": _l("Your Procure account"),
    "reminder_annual_report_due": _l("Annual report due soon"),
    "reminder_annual_report_overdue": _l("Annual reports not filed"),
    "reminder_rating_expiring": _l("Organization rating expiring"),
    "reminder_serious_soon": _l("Organization about to move to the serious dishonesty list"),
    "reminder_holiday_calendar_missing": _l("Next year's holiday calendar is not complete"),
}

SEND_TASK = "workers.mail.send_notification"


def external_url(endpoint: str, **values) -> str:
    """An absolute link to ``endpoint`` based on BASE_URL, inside or outside a request."""
    base = current_app.config["BASE_URL"].rstrip("/")
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context(base_url=base):
            path = url_for(endpoint, **values)
    return base + path


def queue_email(*, template: str, to_email: str, locale: str, rule: str, dedupe_key: str,
                context: dict, recipient=None, obj=None, due_date: date | None = None
                ) -> Notification | None:
    """Add an email to the outbox in the current transaction (flushes, never commits).

    Returns None when an email with the same ``dedupe_key`` already exists: the same
    rule, object, due date and recipient never yield a second email.
    """
    existing = db.session.scalar(select(Notification).where(Notification.dedupe_key == dedupe_key))
    if existing is not None:
        return None
    with force_locale(locale):
        subject = str(SUBJECTS[template])
        ctx = dict(context, subject=subject, recipient=recipient)
        body_text = render_template(f"email/{template}.txt", **ctx)
        body_html = render_template(f"email/{template}.html", **ctx)
    note = Notification(
        dedupe_key=dedupe_key, rule=rule, to_email=to_email, locale=locale,
        subject=subject, body_text=body_text, body_html=body_html,
        recipient_id=getattr(recipient, "id", None),
        object_type=getattr(obj, "__tablename__", None),
        object_id=str(obj.id) if obj is not None else None,
        due_date=due_date, state=NotificationState.QUEUED, next_attempt_at=utcnow(),
    )
    # A savepoint, so that a concurrent writer of the same key loses quietly.
    try:
        with db.session.begin_nested():
            db.session.add(note)
    except IntegrityError:  # the same dedupe_key, written concurrently
        return None
    dispatch.after_commit(SEND_TASK, note.id)
    return note


def backoff_seconds(attempt: int) -> float:
    """Wait before attempt ``attempt + 1``: exponential, capped."""
    cfg = current_app.config
    return min(cfg["MAIL_RETRY_BASE_SECONDS"] * (2 ** max(attempt - 1, 0)), cfg["MAIL_RETRY_MAX_SECONDS"])


def mark_sent(note: Notification) -> None:
    """queued → sent (by the system; audited)."""
    note.attempts += 1
    note.sent_at = utcnow()
    note.next_attempt_at = None
    workflow.transition(note, NotificationState.SENT, None, ALLOWED, extra={"attempts": note.attempts})


def record_failure(note: Notification, error: str, *, permanent: bool = False) -> float | None:
    """Count a failed attempt. Returns the delay before the next attempt, or None when
    the email has failed for good (queued → failed, audited)."""
    note.attempts += 1
    note.last_error = error[:2000]
    if permanent or note.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        note.next_attempt_at = None
        workflow.transition(note, NotificationState.FAILED, None, ALLOWED, reason=note.last_error[:200])
        return None
    delay = backoff_seconds(note.attempts)
    note.next_attempt_at = utcnow() + timedelta(seconds=delay)
    return delay


def requeue(actor, note: Notification) -> None:
    """failed → queued, by an admin after fixing the cause."""
    from ..permissions import require

    require(actor, "outbox.view")
    note.next_attempt_at = utcnow()
    workflow.transition(note, NotificationState.QUEUED, actor, ALLOWED)
    dispatch.after_commit(SEND_TASK, note.id)


def send_now(ids: list[int]) -> int:
    """Hand committed outbox rows to the worker at once (the sweep). A failure leaves
    them for the next sweep. Returns how many were handed over."""
    return sum(dispatch.send(SEND_TASK, note_id) for note_id in ids)
