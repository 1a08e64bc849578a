"""Work queues: each module registers what waits for which role, with a count query and
a link. The dashboard shows them; later issues add budget checks, reviews, payments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..auth.models import User, UserStatus
from ..extensions import db
from ..notifications.models import Notification, NotificationState
from ..roles import Role


@dataclass(frozen=True)
class Queue:
    key: str
    roles: frozenset
    label: object
    count: Callable  # (user) -> int
    url: Callable  # (user) -> str
    #: "danger" for things that went wrong, "primary" for ordinary work.
    tone: str = "primary"
    #: (user) -> bool: whether the card is shown at all (a seasonal warning); None: always.
    shown: Callable | None = None


QUEUES: list[Queue] = []


def register(queue: Queue) -> None:
    QUEUES.append(queue)


def queues_for(user) -> list[dict]:
    return [{"queue": q, "count": q.count(user), "url": q.url(user)}
            for q in QUEUES if user.role in q.roles and (q.shown is None or q.shown(user))]


def _count(stmt) -> int:
    return db.session.scalar(stmt) or 0


register(Queue(
    "outbox.failed", frozenset({Role.ADMIN}), _l("Emails that failed"),
    lambda u: _count(select(func.count()).select_from(Notification)
                     .where(Notification.state == NotificationState.FAILED)),
    lambda u: url_for("admin.outbox_list", state="failed"), tone="danger"))
register(Queue(
    "outbox.queued", frozenset({Role.ADMIN}), _l("Emails waiting to be sent"),
    lambda u: _count(select(func.count()).select_from(Notification)
                     .where(Notification.state == NotificationState.QUEUED)),
    lambda u: url_for("admin.outbox_list", state="queued")))
register(Queue(
    "users.disabled", frozenset({Role.ADMIN}), _l("Disabled accounts"),
    lambda u: _count(select(func.count()).select_from(User).where(User.status == UserStatus.DISABLED)),
    lambda u: url_for("admin.users")))
register(Queue(
    "org.users", frozenset({Role.ORG}), _l("Accounts of my organization"),
    lambda u: _count(select(func.count()).select_from(User).where(User.organization_id == u.organization_id)),
    lambda u: url_for("organizations.users", org_id=u.organization_id)))
