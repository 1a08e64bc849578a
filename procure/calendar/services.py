"""Entering the holiday calendar (admins, from the State Council's notice)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import audit
from ..errors import NotFound, ValidationError
from ..extensions import db
from ..permissions import require
from .models import DayKind, HolidayEntry


def set_calendar_day(actor, day: date, kind: DayKind, note: str = "") -> HolidayEntry:
    """Enter (or change) one day: a holiday on a weekday or a working day on a weekend.
    Admins only; audited; flushes."""
    require(actor, "calendar.manage")
    if not isinstance(day, date):
        raise ValidationError(_l("Please give a date."), field="day")
    kind = DayKind(kind)
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationError(_l("The note is too long (at most 200 characters)."), field="note")
    entry = db.session.scalar(select(HolidayEntry).where(HolidayEntry.day == day))
    if entry is None:
        entry = HolidayEntry(day=day, kind=kind, note=note, created_by_id=actor.id)
        db.session.add(entry)
        db.session.flush()
        audit.record(actor, "calendar.set", entry, after=entry.snapshot())
    else:
        before = entry.snapshot()
        entry.kind, entry.note = kind, note
        db.session.flush()
        changed_before, changed_after = audit.diff(before, entry.snapshot())
        if changed_after:
            audit.record(actor, "calendar.update", entry, before=changed_before, after=changed_after)
    return entry


def delete_calendar_day(actor, entry_id: int) -> None:
    """Remove one entered day (the day then follows the weekday rule or the package)."""
    require(actor, "calendar.manage")
    entry = db.session.get(HolidayEntry, entry_id)
    if entry is None:
        raise NotFound(_l("This calendar entry does not exist."))
    audit.record(actor, "calendar.delete", entry, before=entry.snapshot())
    db.session.delete(entry)
    db.session.flush()
