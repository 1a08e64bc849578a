"""In-app notices: read, read all, mute a non-critical rule (flush, never commit)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from .. import permissions
from ..errors import ValidationError
from ..extensions import db
from ..permissions import ALL
from ..timeutil import utcnow
from .engine import RULES
from .models import Mute, Notice

permissions.define("notice.view", ALL)
#: A notice is its recipient's alone.
permissions.define("notice.own", ALL, permissions.owned_by("user_id"), model=Notice)


def mark_read(actor, notice: Notice) -> Notice:
    permissions.require(actor, "notice.own", notice)
    if notice.read_at is None:
        notice.read_at = utcnow()
    db.session.flush()
    return notice


def mark_all_read(actor) -> int:
    permissions.require(actor, "notice.view")
    result = db.session.execute(update(Notice).where(permissions.filter_for(actor, "notice.own", Notice),
                                                     Notice.read_at.is_(None))
                                .values(read_at=utcnow()))
    return result.rowcount


def set_mute(actor, rule: str, muted: bool) -> None:
    """Mute or unmute a rule for the user; critical rules cannot be muted."""
    permissions.require(actor, "notice.view")
    if rule not in RULES:
        raise ValidationError(_l("Unknown reminder."))
    if RULES[rule].is_critical:
        raise ValidationError(_l("Critical reminders cannot be muted."))
    exists = db.session.scalar(select(Mute).where(Mute.user_id == actor.id, Mute.rule == rule))
    if muted and exists is None:
        db.session.add(Mute(user_id=actor.id, rule=rule))
    elif not muted and exists is not None:
        db.session.execute(delete(Mute).where(Mute.id == exists.id))
    db.session.flush()
