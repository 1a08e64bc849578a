"""Who was told of an action, so that the page can say it ("已提交。已通知：项目主管 李明。").

``notify()`` records the people it wrote a notice to in the current context (``flask.g``),
``web.perform()`` starts each action with an empty list (and empties it again when the
action fails: a rollback tells nobody), and the view flashes what happened followed by
:func:`told_sentence`. The recipients are the user objects the service already holds:
no query is made to name them."""

from __future__ import annotations

from collections.abc import Iterable

from flask import g, has_app_context
from flask_babel import gettext as _

from .roles import ROLE_LABELS

#: Names listed per role before "and N more".
MAX_NAMES = 5


def reset() -> None:
    if has_app_context():
        g.procure_told = {}


def record(users: Iterable) -> None:
    """Remember ``users`` (objects with ``id``, ``name`` and ``role``) as told."""
    if not has_app_context():
        return
    told_ = g.setdefault("procure_told", {})
    for u in users:
        told_.setdefault(u.id, u)


def told() -> list:
    """The users told since the last :func:`reset`, in the order they were told."""
    return list(g.get("procure_told", {}).values()) if has_app_context() else []


def told_sentence(users: list | None = None) -> str:
    """"Notified: Program officer 李明, 陈静; Finance officer 王芳." in the user's language,
    or "" when nobody was told."""
    users = told() if users is None else users
    if not users:
        return ""
    by_role: dict = {}
    for u in users:
        by_role.setdefault(getattr(u, "role", None), []).append(u.name)
    parts = []
    for role, names in by_role.items():
        shown = _(", ").join(names[:MAX_NAMES])
        if len(names) > MAX_NAMES:
            shown += _(" and %(n)d more", n=len(names) - MAX_NAMES)
        label = ROLE_LABELS.get(role)
        parts.append(f"{label} {shown}" if label else shown)
    return _("Notified: %(people)s.", people=_("; ").join(parts))
