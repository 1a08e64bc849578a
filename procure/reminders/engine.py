"""The reminder engine: rules in one place, one scan.

A rule finds, with indexed queries, the obligations due ``offset`` days from today
(negative offsets: days after the due date) and names the recipients. The scan tells
them through ``notifications.notify_bulk`` (an email and an in-app notice each, the texts
in ``templates/email/<rule template>.txt``/``.html``, written a thousand at a time by one
INSERT each), with the key ``rule@offset:object:due_date`` completed by the recipient's
id, unique in the database, so two scans — or two workers — running at once still write
one of each.
Users who muted a non-critical rule get nothing.

Each rule is configurable: its offsets come from a policy value (overridable), and the
app config ``REMINDERS = {"<rule key>": {"enabled": False, "offsets": (…),
"recipients": ("org", "officer")}}`` switches it off or changes offsets and recipients.
The engine holds only the machinery and the generic recipient look-ups: each module
registers its rules with :func:`register` from its own ``reminders.py`` (the
organizations' annual reports, ratings and serious list in
``procure/organizations/reminders.py``, the holiday calendar in
``procure/calendar/reminders.py``), found at start-up like views; later issues add
theirs (tenders, milestones, payments) the same way, without touching the scan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import SimpleNamespace

from flask import current_app, has_request_context
from sqlalchemy import Row, Select, select

from .. import policy
from ..auth.models import Department, User, UserStatus
from ..extensions import db
from ..notifications.services import Outgoing, app_path, notify_bulk, recipient_key, register_topic
from ..roles import Role


@dataclass
class Due:
    """One obligation found by a rule."""

    object_type: str
    object_id: int | str
    due_date: date
    #: recipient kind ("org", "officer") → users
    recipients: dict[str, list]
    endpoint: str
    values: dict
    context: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ReminderRule:
    key: str
    label: object
    template: str
    #: Policy key of the offsets (days before the due date; negative: after).
    offsets_policy: str | None
    #: (today, offsets) -> iterable of (offset, Due)
    find: Callable[[date, tuple], Iterable[tuple[int, Due]]]
    recipients: tuple = ("org",)
    is_critical: bool = False
    #: Fixed offsets when there is no policy value.
    default_offsets: tuple = ()


RULES: dict[str, ReminderRule] = {}
#: The role of each kind of recipient a rule names.
RECIPIENT_ROLES = {"org": Role.ORG, "officer": Role.OFFICER, "admin": Role.ADMIN, "evaluator": Role.EVALUATOR,
                   "finance": Role.FINANCE}


def register(rule: ReminderRule) -> None:
    RULES[rule.key] = rule
    register_topic(rule.key, rule.label, critical=rule.is_critical,
                   roles={RECIPIENT_ROLES[kind] for kind in rule.recipients})


def settings(rule: ReminderRule) -> dict:
    """Whether the rule is on, its offsets and recipient kinds, as configured."""
    conf = (current_app.config.get("REMINDERS") or {}).get(rule.key, {})
    offsets = conf.get("offsets")
    if offsets is None:
        value = policy.value(rule.offsets_policy) if rule.offsets_policy else rule.default_offsets
        offsets = value if isinstance(value, tuple) else (value,)
    return {"enabled": conf.get("enabled", True), "offsets": tuple(int(o) for o in offsets),
            "recipients": tuple(conf.get("recipients", rule.recipients))}


def org_users(org_ids: list[int] | Select) -> dict[int, list]:
    """Active users of each organization, in one query. ``org_ids``: a list, or a
    select of organization ids (the rule's own query, joined in SQL rather than sent
    back as a list of tens of thousands of ids). The users are plain values (id, email,
    name, locale, organization_id)."""
    out: dict[int, list] = {}
    if isinstance(org_ids, list) and not org_ids:
        return out
    rows = db.session.execute(
        select(User.id, User.email, User.name, User.locale, User.organization_id)
        .where(User.organization_id.in_(org_ids), User.role == Role.ORG, User.status == UserStatus.ACTIVE)
        .order_by(User.id))
    for user in rows:
        out.setdefault(user.organization_id, []).append(user)
    return out


def officers() -> list:
    """Active officers (registry staff); a deployment narrows them with
    REMINDER_OFFICER_DEPARTMENTS = ["MZJ-SZ", …] (department codes)."""
    stmt = select(User).where(User.role == Role.OFFICER, User.status == UserStatus.ACTIVE)
    codes = current_app.config.get("REMINDER_OFFICER_DEPARTMENTS")
    if codes:
        stmt = stmt.join(Department, User.department_id == Department.id).where(Department.code.in_(codes))
    return list(db.session.scalars(stmt.order_by(User.id)))


def admins() -> list:
    """Active administrators (they enter the holiday calendar)."""
    return list(db.session.scalars(select(User).where(User.role == Role.ADMIN, User.status == UserStatus.ACTIVE)
                                   .order_by(User.id)))


def _key(rule: str, offset: int, due: Due) -> str:
    """The dedupe key of one reminder (completed with the recipient's id)."""
    return f"{rule}@{offset}:{due.object_type}:{due.object_id}:{due.due_date.isoformat()}"


#: Reminders (recipients) written by one INSERT, and between two calls of the caller's
#: ``checkpoint``.
BATCH = 1000


@contextmanager
def _links():
    """One request context for the whole scan, so the links of thousands of reminders
    are built without one context each (``app_path`` reuses it)."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"].rstrip("/")):
        yield


def _plain(account) -> SimpleNamespace:
    return SimpleNamespace(id=account.id, email=account.email, name=account.name, locale=account.locale)


def due(today: date, only: Iterable[str] | None = None) -> list[tuple[ReminderRule, list]]:
    """What is due ``today``: for each enabled rule, its (offset, Due, recipients)
    found by the rule's set-based queries (a few per rule and day, whatever the number
    of objects), the recipients as plain values. Writes nothing."""
    out = []
    for rule in RULES.values():
        if only is not None and rule.key not in only:
            continue
        conf = settings(rule)
        if not conf["enabled"] or not conf["offsets"]:
            continue
        plan = []
        # Catch up on the days a beat may have missed: a reminder found for an earlier
        # day is still sent while its due date has not passed (its unique key keeps a
        # reminder already written from being written again).
        for back in range(int(current_app.config.get("REMINDER_CATCH_UP_DAYS", 2)), -1, -1):
            for offset, found in rule.find(today - timedelta(days=back), conf["offsets"]):
                if back and offset > 0 and found.due_date < today:
                    continue
                # Plain values (rows as ``org_users`` gives them): a checkpoint's commit
                # expires ORM objects.
                people = [account if isinstance(account, Row) else _plain(account)
                          for kind in conf["recipients"] for account in found.recipients.get(kind, [])]
                if people:
                    plan.append((offset, found, people))
        if plan:
            out.append((rule, plan))
    return out


def scan(today: date, only: Iterable[str] | None = None,
         checkpoint: Callable[[], None] | None = None) -> dict[str, int]:
    """Run every enabled rule for ``today``; returns reminders written (recipients
    reached) per rule. Flushes, never commits.

    What is due is found set-based (:func:`due`); the reminders are written in bulk by
    ``notifications.notify_bulk``: :data:`BATCH` recipients at a time, one INSERT of
    notices and one of emails, ``ON CONFLICT (dedupe_key) DO NOTHING``, the texts
    rendered once per language and group of values; only the emails actually inserted
    are handed, after the commit, to the batch send task. Rows are written in key
    order, so two scans at once wait for each other's keys instead of deadlocking, and
    each reminder is written once. The task passes ``checkpoint`` (a commit), called
    after every batch: a scan stopped half-way is simply run again (the unique keys
    skip what was already written)."""
    counts: dict[str, int] = {}
    with _links():
        for rule, plan in due(today, only):
            items = []
            for offset, found, people in plan:
                key = _key(rule.key, offset, found)
                link = app_path(found.endpoint, **found.values)
                days = (found.due_date - today).days if offset > 0 else abs(offset)
                context = dict(found.context, offset=offset, days=days)
                items.extend(Outgoing(p, recipient_key(key, p.id), context, link, found.object_type,
                                      str(found.object_id), found.due_date) for p in people)
            items.sort(key=lambda i: i.dedupe_key)
            written, stencils = 0, {}
            for start in range(0, len(items), BATCH):
                n, _ids = notify_bulk(items[start:start + BATCH], rule.template, rule=rule.key,
                                      critical=rule.is_critical, stencils=stencils)
                written += n
                if checkpoint is not None:
                    checkpoint()
            counts[rule.key] = written
    db.session.flush()
    return counts
