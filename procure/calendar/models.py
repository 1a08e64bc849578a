"""The system's own holiday calendar: days an administrator entered from the State
Council's notice. It is consulted before the chinesecalendar package."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db, str_enum
from ..timeutil import utcnow


class DayKind(enum.StrEnum):
    #: A rest day on a weekday (法定节假日, 调休).
    HOLIDAY = "holiday"
    #: A working day on a weekend (调休上班).
    WORKDAY = "workday"

    @property
    def label(self):
        return {DayKind.HOLIDAY: _l("Holiday (rest day)"), DayKind.WORKDAY: _l("Working day")}[self]


class HolidayEntry(db.Model):
    """One day whose status differs from (or confirms) the weekday rule. For a year the
    chinesecalendar package does not know, the year counts as entered as soon as it has
    one entry, and days not listed follow Monday–Friday; for a year it knows, an entry
    corrects that one day."""

    __tablename__ = "holiday_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True, nullable=False)
    kind: Mapped[DayKind] = mapped_column(
        str_enum(DayKind, 10), nullable=False)
    #: E.g. "国庆节", or the notice it comes from.
    note: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    def snapshot(self) -> dict:
        return {"day": self.day.isoformat(), "kind": self.kind.value, "note": self.note}
