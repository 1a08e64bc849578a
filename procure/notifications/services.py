"""Telling people: ``notify`` writes, for each recipient, an email (an outbox row) and an
in-app notice in the recipient's language, in the caller's transaction (it flushes, never
commits); recording the emails' delivery; reading and muting notices.

The words of a notification live in its templates, ``templates/email/<name>.txt`` and
``.html``: the ``.txt`` defines the blocks ``subject`` and (optionally) ``notice``, the
in-app text, besides the body. When the outermost transaction commits, each email's id is
handed to the Celery task ``workers.mail.send_notification`` (``procure.dispatch.after_commit``;
by name: services never import workers); ``notify_bulk`` (the reminder scan) writes
thousands at once and hands their ids over in batches to ``workers.mail.send_batch``.
If the broker is unreachable at that moment the row stays queued and the beat sweep
sends it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from jinja2.utils import concat
from markupsafe import escape
from sqlalchemy import Text, bindparam, cast, column, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from .. import dispatch, permissions, told
from ..errors import ValidationError
from ..extensions import db
from ..permissions import ALL
from ..timeutil import utcnow
from .models import MACHINE, Mute, Notice, Notification, NotificationState

log = logging.getLogger(__name__)

SEND_TASK = "workers.mail.send_notification"
#: The task that sends a batch of outbox rows over one SMTP connection.
SEND_BATCH_TASK = "workers.mail.send_batch"
#: Outbox ids per batch task: what one worker sends under one row lock and one commit.
MAIL_BATCH = 100

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


def default_issuer():
    """Who signs an email that no department sends: ``ISSUER_NAME`` when configured, else
    the system, named in the recipient's language."""
    return current_app.config.get("ISSUER_NAME") or _l("Procure, the purchase-of-services system")


def _sender_name(issuer) -> str | None:
    """The From name: the sending department; None (the default sender) for the system."""
    return _shorten(issuer, 120) if isinstance(issuer, str) else None


def issuer_of(obj) -> str | None:
    """The department in whose name an email about ``obj`` goes out: the object's own
    department (a project, tender, contract …), else its project's or its contract's."""
    for holder in (obj, getattr(obj, "project", None), getattr(obj, "contract", None)):
        dept = getattr(holder, "department", None) if holder is not None else None
        name = getattr(dept, "name", None)
        if name:
            return name
    return None


def _compose(user, template: str, context: dict, link: str | None) -> tuple[str, str, str, str]:
    """(subject, notice text, text body, HTML body) in the recipient's language. The
    layout signs with ``issuer`` (the sending department) and a do-not-reply line."""
    with force_locale(_locale(user)):
        ctx = dict(context, user=user, recipient=user)
        ctx.setdefault("issuer", default_issuer())
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


def skipped(rule: str, pairs: list[tuple[str | None, int]], *, critical: bool = False,
            complete: bool = False) -> set[tuple[str | None, int]]:
    """Of (dedupe key, user id) pairs, those ``notify`` would skip: the user muted the
    (non-critical) topic, or was already told under that key. A few queries however many
    pairs, so a caller with thousands (the reminder scan) can filter them in bulk.
    ``complete``: the keys already end with the recipient's id (``recipient_key``)."""
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
    stored = {(k if complete else recipient_key(k, uid)): (k, uid) for k, uid in pairs if k is not None}
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
    context = dict(context or {})
    context.setdefault("issuer", issuer_of(obj) or default_issuer())
    written: list[Written] = []
    for user in people:
        if user.id in skip:
            continue
        subject, text, body_text, body_html = _compose(user, template, context, link)
        key = keys.get(user.id)
        notice = Notice(dedupe_key=key, user_id=user.id, rule=rule, object_type=object_type, object_id=object_id,
                        link=link, text=_shorten(text, 500), due_date=due_date, is_critical=critical)
        email = None
        if getattr(user, "email", None):
            email = Notification(
                dedupe_key=key, rule=rule, to_email=user.email,
                locale=_locale(user),
                subject=_shorten(subject, 300), body_text=body_text, body_html=body_html, recipient_id=user.id,
                sender_name=_sender_name(context["issuer"]), object_type=object_type, object_id=object_id,
                due_date=due_date,
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
    told_ids = {w.user_id for w in written}
    told.record(u for u in people if u.id in told_ids)  # the page says who was told
    return written


# --- notify in bulk (the reminder scan) ------------------------------------------------

@dataclass
class Outgoing:
    """One recipient's notification for :func:`notify_bulk`."""

    #: The recipient: ``id``, ``email``, ``name``, ``locale``.
    user: object
    #: The complete key (``recipient_key(…)``), unique in the database.
    dedupe_key: str
    context: dict = field(default_factory=dict)
    #: Path inside the app the notice opens (and the email links to).
    link: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    due_date: date | None = None


def _json_value(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _insert_new(table, rows: list[dict], returning):
    """One ``INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING …`` for ``rows``
    (PostgreSQL and SQLite both have it): a key some other transaction wrote — or is
    writing: PostgreSQL waits for it — is skipped, never an error.

    On PostgreSQL the rows travel as ONE parameter, a JSON array expanded by
    ``json_to_recordset`` into the table's column types: the statement is the same
    short text for every batch (compiled and parsed once), where a multi-row ``VALUES``
    of 1,000 rows has 18,000 placeholders that the driver re-parses each time (most of
    the time of the scan when measured). SQLite gets the rows as an executemany, which
    SQLAlchemy sends as multi-row INSERTs."""
    if not rows:
        return []
    dialect = db.session.get_bind().dialect.name
    names = list(rows[0])
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import JSON
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        source = func.json_to_recordset(cast(bindparam("rows", type_=Text), JSON)).table_valued(
            *(column(name, table.c[name].type) for name in names)).render_derived(name="r", with_types=True)
        stmt = (pg_insert(table).from_select(names, select(*(source.c[name] for name in names)))
                .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(*returning))
        return db.session.execute(stmt, {"rows": json.dumps(rows, default=_json_value, ensure_ascii=False)}).all()
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(*returning)
        return db.session.execute(stmt, rows).all()
    raise NotImplementedError(dialect)  # pragma: no cover - the two databases the project runs on


class _Stencil:
    """The texts of one template in one language rendered ONCE, with every string of
    the context (the recipient's name, the organization's name, the link …) standing as
    a marker that each row fills in (escaped in the HTML body). Values that are not
    strings (years, day counts) are part of the group's key, so a template may test or
    pluralize them. The first row of a group is also rendered the ordinary way and
    compared: a template that transforms a string (a filter, a test) makes the group
    fall back to rendering each row."""

    def __init__(self, template: str, locale: str, strings: tuple[str, ...], others: dict):
        self.marks = {name: f"\ue000{i}\ue001" for i, name in enumerate(strings)}
        ctx = dict(others, **{n: self.marks[n] for n in strings if n != "user.name"})
        user = SimpleNamespace(id=0, name=self.marks["user.name"], email="", locale=locale)
        self.texts = _compose(user, template, ctx, None)
        self.checked = False
        self.exact = True

    def fill(self, values: dict[str, str]) -> tuple[str, str, str, str]:
        subject, text, body_text, body_html = self.texts
        for name, mark in self.marks.items():
            value = values[name]
            subject, text, body_text = (subject.replace(mark, value), text.replace(mark, value),
                                        body_text.replace(mark, value))
            body_html = body_html.replace(mark, str(escape(value)))
        return " ".join(subject.split()), " ".join(text.split()), body_text, body_html


def _texts(stencils: dict, template: str, item: Outgoing) -> tuple[str, str, str, str]:
    """(subject, notice text, text body, HTML body) of one row, from its group's stencil."""
    locale = _locale(item.user)
    link = absolute_url(item.link) if item.link is not None and "link" not in item.context else None
    context = dict(item.context)
    if link is not None:
        context["link"] = link
    if not isinstance(item.user.name, str):
        return _compose(item.user, template, context, None)
    strings = {"user.name": item.user.name}
    strings.update({k: v for k, v in context.items() if isinstance(v, str)})
    others = {k: v for k, v in context.items() if not isinstance(v, str)}
    key = (locale, tuple(sorted(strings)), tuple(sorted((k, repr(v)) for k, v in others.items())))
    stencil = stencils.get(key)
    if stencil is None:
        stencil = stencils[key] = _Stencil(template, locale, tuple(sorted(strings)), others)
    if not stencil.exact:
        return _compose(item.user, template, context, None)
    filled = stencil.fill(strings)
    if not stencil.checked:
        stencil.checked = True
        if filled != _compose(item.user, template, context, None):
            log.info("template %s transforms its values: rendered row by row", template)
            stencil.exact = False
            return _compose(item.user, template, context, None)
    return filled


def notify_bulk(items: Sequence[Outgoing], template: str, *, rule: str, critical: bool = False,
                stencils: dict | None = None) -> tuple[int, list[int]]:
    """Tell many recipients at once (the reminder scan): what :func:`notify` writes, but
    one ``INSERT`` of notices and one of emails for all ``items`` (each ``ON CONFLICT
    (dedupe_key) DO NOTHING``), so a key written by an earlier or a concurrent scan is
    skipped by the database itself. Users who muted the (non-critical) ``rule`` and keys
    already written are left out before anything is rendered. The texts, in each
    recipient's language, are rendered once per language and group of values
    (:class:`_Stencil`; pass the same ``stencils`` dict to later calls to keep them).

    The notice holds the key: an email is written only for the notices this call
    inserted, so two concurrent callers never both write one. The new emails' ids are
    handed to the batch send task (:data:`SEND_BATCH_TASK`, :data:`MAIL_BATCH` ids a
    task) when the outermost transaction commits. Flushes, never commits. Returns
    (notices written, email ids written)."""
    stencils = {} if stencils is None else stencils
    skip = skipped(rule, [(i.dedupe_key, i.user.id) for i in items], critical=critical, complete=True)
    todo = sorted({i.dedupe_key: i for i in items if (i.dedupe_key, i.user.id) not in skip}.values(),
                  key=lambda i: i.dedupe_key)
    if not todo:
        return 0, []
    db.session.flush()
    now = utcnow()
    notices, emails = [], {}
    issuer = default_issuer()
    for item in todo:
        item.context.setdefault("issuer", issuer)
        subject, text, body_text, body_html = _texts(stencils, template, item)
        common = {"dedupe_key": item.dedupe_key, "rule": rule, "object_type": item.object_type,
                  "object_id": item.object_id, "due_date": item.due_date, "created_at": now}
        notices.append(dict(common, user_id=item.user.id, link=item.link, text=_shorten(text, 500),
                            is_critical=critical, read_at=None))
        if getattr(item.user, "email", None):
            emails[item.dedupe_key] = dict(
                common, to_email=item.user.email, locale=_locale(item.user), subject=_shorten(subject, 300),
                body_text=body_text, body_html=body_html, recipient_id=item.user.id,
                sender_name=_sender_name(item.context["issuer"]), state=NotificationState.QUEUED,
                attempts=0, last_error=None, next_attempt_at=now, sent_at=None)
    won = [key for (key,) in _insert_new(Notice.__table__, notices, [Notice.__table__.c.dedupe_key])]
    rows = [emails[k] for k in sorted(won) if k in emails]
    ids = sorted(i for (i,) in _insert_new(Notification.__table__, rows, [Notification.__table__.c.id])) \
        if rows else []
    for start in range(0, len(ids), MAIL_BATCH):
        dispatch.after_commit(SEND_BATCH_TASK, ids[start:start + MAIL_BATCH])
    return len(won), ids


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
    """Hand committed outbox rows to the worker at once (the sweep), :data:`MAIL_BATCH`
    ids a task. A failure leaves them for the next sweep. Returns how many were handed
    over."""
    ids = sorted(ids)
    return sum(len(chunk) for chunk in (ids[i:i + MAIL_BATCH] for i in range(0, len(ids), MAIL_BATCH))
               if dispatch.send(SEND_BATCH_TASK, chunk))
