"""The system's own holiday calendar: days an administrator entered from the State
Council's notice, and per year whether the entry is complete (the notice it comes from).
It is consulted before the chinesecalendar package."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String
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
    chinesecalendar package does not know, the entries count only once the year is marked
    complete (:class:`HolidayYear`), and then days not listed follow Monday–Friday; for a
    year it knows, an entry corrects that one day."""

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


class HolidayYear(db.Model):
    """A year of the calendar as an administrator declared it: complete once every day
    of the State Council's notice for that year is entered, citing the notice. Working
    days are counted in a year the package does not know only while it is complete;
    a complete year's days cannot be changed until it is un-marked, with a reason."""

    __tablename__ = "holiday_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    is_complete: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: 文号 and title of the notice, e.g. 国办发明电〔2025〕7号《国务院办公厅关于2026年部分节假日安排的通知》.
    notice_ref: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    #: The date the notice was issued.
    notice_date: Mapped[date | None] = mapped_column(Date)
    #: Who marked the year complete (or un-marked it last) and when.
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (
        CheckConstraint("NOT is_complete OR (notice_ref <> '' AND notice_date IS NOT NULL)",
                        name="complete_cites_notice"),
    )

    def snapshot(self) -> dict:
        return {"year": self.year, "is_complete": self.is_complete, "notice_ref": self.notice_ref,
                "notice_date": self.notice_date.isoformat() if self.notice_date else None}
