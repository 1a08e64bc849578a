"""Telling people: ``notify`` writes, for each recipient, an email (an outbox row) and an
in-app notice in the recipient's language, in the caller's transaction (it flushes, never
commits); recording the emails' delivery; reading and muting notices.

The words of a notification live in its templates, ``templates/email/<name>.txt`` and
``.html``: the ``.txt`` defines the blocks ``subject`` and (optionally) ``notice``, the
in-app text, besides the body. When the outermost transaction commits, each email's id is
handed to the Celery task ``workers.mail.send_notification`` (``procure.dispatch.after_commit``;
by name: services never import workers). If the broker is unreachable at that moment the row stays queued and the beat
sweep sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from jinja2.utils import concat
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from .. import dispatch, permissions
from ..errors import ValidationError
from ..extensions import db
from ..permissions import ALL
from ..timeutil import utcnow
from .models import MACHINE, Mute, Notice, Notification, NotificationState

log = logging.getLogger(__name__)

SEND_TASK = "workers.mail.send_notification"

permissions.define("notice.view", ALL)
#: A notice is its recipient's alone.
permissions.define("notice.own", ALL, permissions.owned_by("user_id"), model=Notice)


# --- topics: what people are told about, and may mute -------------------------------

@dataclass(frozen=True)
class Topic:
    """A kind of notification listed on the notices page; a non-critical one can be muted."""

    key: str
    label: object
    is_critical: bool = False
    #: The roles it usually goes to (the notices page lists it for them); None: anyone.
    roles: frozenset | None = None


TOPICS: dict[str, Topic] = {}


def register_topic(key: str, label, *, critical: bool = False, roles=None) -> None:
    """Called by the module that notifies (reminder rules, workflow events)."""
    TOPICS[key] = Topic(key, label, critical, frozenset(roles) if roles is not None else None)


def topics_for(user) -> list[Topic]:
    """The topics the notices page lists for ``user``."""
    return [t for t in TOPICS.values() if t.roles is None or user.role in t.roles]


# --- links ---------------------------------------------------------------------------

def app_path(endpoint: str, **values) -> str:
    """The path of ``endpoint`` inside the app, inside or outside a request."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"].rstrip("/")):
        return url_for(endpoint, **values)


def absolute_url(path: str) -> str:
    """``path`` inside the app as a link for an email (based on BASE_URL)."""
    if "://" in path:
        return path
    return current_app.config["BASE_URL"].rstrip("/") + path


def external_url(endpoint: str, **values) -> str:
    """An absolute link to ``endpoint`` based on BASE_URL, inside or outside a request."""
    return absolute_url(app_path(endpoint, **values))


# --- notify --------------------------------------------------------------------------

@dataclass
class Written:
    """What ``notify`` wrote for one recipient."""

    user_id: int
    notice: Notice
    #: None when the recipient has no email address.
    email: Notification | None


def _block(name: str, block: str, ctx: dict) -> str | None:
    """One block of a template, on one line (None when the template lacks it)."""
    template = current_app.jinja_env.get_template(name)
    render = template.blocks.get(block)
    if render is None:
        return None
    return " ".join(concat(render(template.new_context(ctx))).split())


def _locale(user) -> str:
    return getattr(user, "locale", None) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _compose(user, template: str, context: dict, link: str | None) -> tuple[str, str, str, str]:
    """(subject, notice text, text body, HTML body) in the recipient's language."""
    with force_locale(_locale(user)):
        ctx = dict(context, user=user, recipient=user)
        if link is not None:
            ctx.setdefault("link", absolute_url(link))
        subject = _block(f"email/{template}.txt", "subject", ctx)
        if not subject:
            raise LookupError(f"templates/email/{template}.txt has no subject block")
        text = _block(f"email/{template}.txt", "notice", ctx) or subject
        body_text = render_template(f"email/{template}.txt", **ctx).strip() + "\n"
        body_html = render_template(f"email/{template}.html", **ctx)
    return subject, text, body_text, body_html


def recipient_key(dedupe_key: str, user_id: int) -> str:
    """The key stored on one recipient's email and notice."""
    return f"{dedupe_key}:{user_id}"


def skipped(rule: str, pairs: list[tuple[str | None, int]], *, critical: bool = False) -> set[tuple[str | None, int]]:
    """Of (dedupe key, user id) pairs, those ``notify`` would skip: the user muted the
    (non-critical) topic, or was already told under that key. A few queries however many
    pairs, so a caller with thousands (the reminder scan) can filter them in bulk."""
    out: set[tuple[str | None, int]] = set()
    if not pairs:
        return out
    if not critical:
        ids = sorted({uid for _key, uid in pairs})
        muted: set[int] = set()
        for start in range(0, len(ids), 5000):
            muted.update(db.session.scalars(select(Mute.user_id).where(Mute.rule == rule,
                                                                       Mute.user_id.in_(ids[start:start + 5000]))))
        out.update(p for p in pairs if p[1] in muted)
    stored = {recipient_key(k, uid): (k, uid) for k, uid in pairs if k is not None}
    keys = list(stored)
    for start in range(0, len(keys), 5000):
        out.update(stored[k] for k in db.session.scalars(
            select(Notice.dedupe_key).where(Notice.dedupe_key.in_(keys[start:start + 5000]))))
    return out


def notify(recipients: Iterable, template: str, obj=None, *, context: dict | None = None,
           dedupe_key: str | None = None, rule: str | None = None, due_date: date | None = None,
           critical: bool = False, link: str | None = None) -> list[Written]:
    """Tell each recipient: an in-app notice and an email, written together in the
    current transaction (flushes, never commits; a rollback leaves neither).

    ``recipients`` are users (or objects with ``id``, ``email``, ``name``, ``locale``);
    the caller chooses them (active ones, not the actor). The texts come from
    ``templates/email/<template>.txt``/``.html`` rendered in each recipient's language
    with ``context`` plus ``user`` (the recipient) and ``link`` (the absolute form of
    ``link``, a path inside the app, which the notice opens). ``rule`` names the topic
    (default: the template); users who muted it get nothing unless ``critical``.
    ``dedupe_key`` (optional) is completed with the recipient's id: the same key never
    yields a second email or notice, even from two transactions at once. A recipient
    without an email address gets the notice only.
    """
    rule = rule or template
    people = list({u.id: u for u in recipients if u is not None}.values())
    if not people:
        return []
    skip = {uid for _key, uid in skipped(rule, [(dedupe_key, u.id) for u in people], critical=critical)}
    keys = {u.id: recipient_key(dedupe_key, u.id) for u in people} if dedupe_key else {}
    object_type = getattr(obj, "__tablename__", None)
    object_id = str(obj.id) if obj is not None else None
    written: list[Written] = []
    for user in people:
        if user.id in skip:
            continue
        subject, text, body_text, body_html = _compose(user, template, context or {}, link)
        key = keys.get(user.id)
        notice = Notice(dedupe_key=key, user_id=user.id, rule=rule, object_type=object_type, object_id=object_id,
                        link=link, text=_shorten(text, 500), due_date=due_date, is_critical=critical)
        email = None
        if getattr(user, "email", None):
            email = Notification(
                dedupe_key=key, rule=rule, to_email=user.email,
                locale=_locale(user),
                subject=_shorten(subject, 300), body_text=body_text, body_html=body_html, recipient_id=user.id,
                object_type=object_type, object_id=object_id, due_date=due_date,
                state=NotificationState.QUEUED, next_attempt_at=utcnow())
        rows = [notice] if email is None else [notice, email]
        if key is None:
            db.session.add_all(rows)
        else:
            # A savepoint, so that a concurrent writer of the same key loses quietly.
            try:
                with db.session.begin_nested():
                    db.session.add_all(rows)
            except IntegrityError:
                continue
        written.append(Written(user.id, notice, email))
    db.session.flush()
    for w in written:
        if w.email is not None:
            dispatch.after_commit(SEND_TASK, w.email.id)
    return written


# --- notices: read, read all, mute ---------------------------------------------------

def mark_read(actor, notice: Notice) -> Notice:
    """The user opened the notice."""
    permissions.require(actor, "notice.own", notice)
    if notice.read_at is None:
        notice.read_at = utcnow()
    db.session.flush()
    return notice


def mark_all_read(actor) -> int:
    """Every unread notice of the user is read; returns how many."""
    permissions.require(actor, "notice.view")
    result = db.session.execute(update(Notice).where(permissions.filter_for(actor, "notice.own", Notice),
                                                     Notice.read_at.is_(None))
                                .values(read_at=utcnow()))
    return result.rowcount


def set_mute(actor, rule: str, muted: bool) -> None:
    """Mute or unmute a topic for the user; critical topics cannot be muted."""
    permissions.require(actor, "notice.view")
    topic = TOPICS.get(rule)
    if topic is None:
        raise ValidationError(_l("Unknown reminder."))
    if topic.is_critical:
        raise ValidationError(_l("Critical reminders cannot be muted."))
    exists = db.session.scalar(select(Mute).where(Mute.user_id == actor.id, Mute.rule == rule))
    if muted and exists is None:
        db.session.add(Mute(user_id=actor.id, rule=rule))
    elif not muted and exists is not None:
        db.session.execute(delete(Mute).where(Mute.id == exists.id))
    db.session.flush()


# --- the outbox: delivery --------------------------------------------------------------

def backoff_seconds(attempt: int) -> float:
    """Wait before attempt ``attempt + 1``: exponential, capped."""
    cfg = current_app.config
    return min(cfg["MAIL_RETRY_BASE_SECONDS"] * (2 ** max(attempt - 1, 0)), cfg["MAIL_RETRY_MAX_SECONDS"])


def mark_sent(note: Notification) -> None:
    """queued → sent (by the system; audited)."""
    note.attempts += 1
    note.sent_at = utcnow()
    note.next_attempt_at = None
    MACHINE.transition(note, NotificationState.SENT, None, extra={"attempts": note.attempts})


def record_failure(note: Notification, error: str, *, permanent: bool = False) -> float | None:
    """Count a failed attempt. Returns the delay before the next attempt, or None when
    the email has failed for good (queued → failed, audited)."""
    note.attempts += 1
    note.last_error = error[:2000]
    if permanent or note.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        note.next_attempt_at = None
        MACHINE.transition(note, NotificationState.FAILED, None, reason=note.last_error[:200])
        return None
    delay = backoff_seconds(note.attempts)
    note.next_attempt_at = utcnow() + timedelta(seconds=delay)
    return delay


def requeue(actor, note: Notification) -> None:
    """failed → queued, by an admin after fixing the cause."""
    permissions.require(actor, "outbox.view")
    note.next_attempt_at = utcnow()
    MACHINE.transition(note, NotificationState.QUEUED, actor)
    dispatch.after_commit(SEND_TASK, note.id)


def send_now(ids: list[int]) -> int:
    """Hand committed outbox rows to the worker at once (the sweep). A failure leaves
    them for the next sweep. Returns how many were handed over."""
    return sum(dispatch.send(SEND_TASK, note_id) for note_id in ids)
