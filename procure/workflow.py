"""State machines as data, and the one transition helper every service calls."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

from . import audit
from .errors import InvalidTransition

Allowed = Mapping[enum.StrEnum, frozenset]


def check(allowed: Allowed, current: enum.StrEnum, to: enum.StrEnum) -> None:
    """Raise InvalidTransition unless ``current → to`` is in ``allowed``."""
    if to not in allowed.get(current, frozenset()):
        raise InvalidTransition(
            _l("Cannot change from “%(current)s” to “%(to)s”.",
               current=getattr(current, "label", current), to=getattr(to, "label", to))
        )


def transition(obj, to: enum.StrEnum, actor, allowed: Allowed, *, field: str = "state",
               reason: str | None = None, extra: dict | None = None):
    """Move ``obj`` to state ``to`` if ``allowed`` permits it, and audit the change.

    Flushes, never commits. ``extra`` adds other columns changed by the same action to
    the audit event's ``after``.
    """
    current = getattr(obj, field)
    check(allowed, current, to)
    setattr(obj, field, to)
    after = {field: to.value}
    if reason:
        after["reason"] = reason
    if extra:
        after.update(extra)
    audit.record(actor, "transition", obj, before={field: current.value}, after=after)
    return obj
