"""The reminder engine: rules in one place, one scan.

A rule finds, with indexed queries, the obligations due ``offset`` days from today
(negative offsets: days after the due date) and names the recipients. The scan tells
them through ``notifications.notify`` (an email and an in-app notice each, the texts in
``templates/email/<rule template>.txt``/``.html``), with the key
``rule@offset:object:due_date`` completed by the recipient's id, unique in the
database, so two scans — or two workers — running at once still write one of each.
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
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select

from .. import policy
from ..auth.models import Department, User, UserStatus
from ..extensions import db
from ..notifications.services import app_path, notify, register_topic, skipped
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
RECIPIENT_ROLES = {"org": Role.ORG, "officer": Role.OFFICER, "admin": Role.ADMIN, "evaluator": Role.EVALUATOR}


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


def org_users(org_ids: list[int]) -> dict[int, list]:
    """Active users of each organization, in one query."""
    out: dict[int, list] = {}
    if not org_ids:
        return out
    for user in db.session.scalars(select(User).where(User.organization_id.in_(org_ids), User.role == Role.ORG,
                                                      User.status == UserStatus.ACTIVE).order_by(User.id)):
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
    """The dedupe key of one reminder (notify adds the recipient's id)."""
    return f"{rule}@{offset}:{due.object_type}:{due.object_id}:{due.due_date.isoformat()}"


#: Obligations written between two calls of the caller's ``checkpoint``.
BATCH = 500


def scan(today: date, only: Iterable[str] | None = None,
         checkpoint: Callable[[], None] | None = None) -> dict[str, int]:
    """Run every enabled rule for ``today``; returns reminders written (recipients
    reached) per rule. Flushes, never commits. The task passes ``checkpoint`` (a commit)
    to be called every :data:`BATCH` reminders: each reminder is written in a savepoint,
    and one transaction with tens of thousands of savepoints slows PostgreSQL down (its
    subtransaction cache overflows). A scan stopped half-way is simply run again: the
    unique keys skip what was already written."""
    counts: dict[str, int] = {}
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
            for offset, due in rule.find(today - timedelta(days=back), conf["offsets"]):
                if back and offset > 0 and due.due_date < today:
                    continue
                # Plain values: a checkpoint's commit expires ORM objects.
                people = [SimpleNamespace(id=account.id, email=account.email, name=account.name,
                                          locale=account.locale)
                          for kind in conf["recipients"] for account in due.recipients.get(kind, [])]
                if people:
                    plan.append((offset, due, people))
        if not plan:
            continue
        # What earlier scans wrote and the users' mutes, in bulk (notify checks again,
        # one recipient group at a time: this keeps a scan of an already-done day fast).
        skip = skipped(rule.key, [(_key(rule.key, offset, due), p.id) for offset, due, people in plan
                                  for p in people], critical=rule.is_critical)
        written = 0
        for offset, due, people in plan:
            key = _key(rule.key, offset, due)
            people = [p for p in people if (key, p.id) not in skip]
            if not people:
                continue
            # The outbox row names the object by table and id (a stand-in: the object
            # itself is not loaded).
            about = SimpleNamespace(__tablename__=due.object_type, id=due.object_id)
            days = (due.due_date - today).days if offset > 0 else abs(offset)
            done = notify(people, rule.template, about, context=dict(due.context, offset=offset, days=days),
                          dedupe_key=key, rule=rule.key, due_date=due.due_date,
                          critical=rule.is_critical, link=app_path(due.endpoint, **due.values))
            before, written = written, written + len(done)
            if checkpoint is not None and written // BATCH > before // BATCH:
                checkpoint()
        counts[rule.key] = written
    db.session.flush()
    return counts
