"""The one permission check. Every service calls :func:`require` before it changes or
reveals anything; views may call :func:`can` to decide what to show, never instead.

A rule names the roles that may perform an action and, optionally, a scope function
that decides whether this user may do it to this object (the object's owner).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from .errors import NotPermitted
from .roles import Role

ALL = frozenset(Role)


def _own_organization(user, org) -> bool:
    """Admin sees every organization; an org user only their own."""
    if user.role == Role.ADMIN:
        return True
    return org is not None and user.organization_id == getattr(org, "id", None)


def _self_only(user, target) -> bool:
    return target is not None and target.id == user.id


@dataclass(frozen=True)
class Rule:
    roles: frozenset
    scope: Callable | None = None


RULES: dict[str, Rule] = {
    "user.manage": Rule(frozenset({Role.ADMIN})),
    "department.manage": Rule(frozenset({Role.ADMIN})),
    "outbox.view": Rule(frozenset({Role.ADMIN})),
    "policy.view": Rule(frozenset({Role.ADMIN})),
    "audit.view": Rule(frozenset({Role.ADMIN})),
    "organization.users.view": Rule(frozenset({Role.ADMIN, Role.ORG}), _own_organization),
    "account.change_password": Rule(ALL, _self_only),
    "dashboard.view": Rule(ALL),
}


def can(user, action: str, obj=None) -> bool:
    """True when ``user`` may perform ``action`` (on ``obj``)."""
    rule = RULES[action]
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role not in rule.roles:
        return False
    if rule.scope is not None and not rule.scope(user, obj):
        return False
    return True


def require(user, action: str, obj=None) -> None:
    """Raise NotPermitted unless ``user`` may perform ``action`` (on ``obj``)."""
    if not can(user, action, obj):
        raise NotPermitted(_l("You are not allowed to do this."))


def define(action: str, roles, scope: Callable | None = None) -> None:
    """Add a module's rule (each module defines its own actions at import)."""
    if action in RULES and RULES[action] != Rule(frozenset(roles), scope):
        raise ValueError(f"permission {action!r} defined twice")
    RULES[action] = Rule(frozenset(roles), scope)
