"""Working days and periods (DOMAIN.md §3; 民法典 第二百零一条, 第二百零三条).

* ``add_working_days(d, n)``: "n working days after d" is the n-th working day after d,
  d itself not counted.
* ``period_end(d, days)``: a period of ``days`` calendar days starting on d ends on
  d + days (the first day is not counted, 第二百零一条); if that day is a rest day or
  holiday (weekends included) it ends on the next working day (第二百零三条).
* ``is_working_day(d)``.

Where the calendar comes from, day by day: a day entered in the ``holiday_entries``
table (an admin enters each year from the State Council's notice, published late in the
year before; an entry also corrects the package for a year it knows); else the
chinesecalendar package (which knows 2004–2026 in release 1.11.0); else, in a year the
package does not know but that has entries, Monday–Friday. A date in a year that neither
knows raises :class:`CalendarNotEntered`, a domain error that tells the
user the year's calendar must be entered — never a NotImplementedError.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import permissions
from ..errors import DomainError
from ..extensions import db
from ..roles import Role

permissions.define("calendar.manage", {Role.ADMIN})

ONE_DAY = timedelta(days=1)
#: A working-day count far above any rule's, so a wrong argument fails fast.
MAX_DAYS = 3660


class CalendarNotEntered(DomainError):
    """The holiday calendar of a year is not known yet."""

    status_code = 409

    def __init__(self, year: int):
        super().__init__(_l("The working-day calendar for %(year)s has not been entered yet. An administrator "
                            "must enter that year's holidays and make-up working days from the State Council's "
                            "notice (Administration → Holiday calendar).", year=year))
        self.year = year


class WorkCalendar:
    """Answers ``is_working_day`` from the table and the package, loading the table's
    entries one year at a time (one query per year touched)."""

    def __init__(self):
        self._years: dict[int, dict[date, bool]] = {}

    def _entries(self, year: int) -> dict[date, bool]:
        if year not in self._years:
            from .models import DayKind, HolidayEntry

            rows = db.session.execute(
                select(HolidayEntry.day, HolidayEntry.kind)
                .where(HolidayEntry.day >= date(year, 1, 1), HolidayEntry.day < date(year + 1, 1, 1))).all()
            self._years[year] = {row.day: row.kind == DayKind.WORKDAY for row in rows}
        return self._years[year]

    def is_working_day(self, day: date) -> bool:
        entries = self._entries(day.year)
        if day in entries:
            return entries[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            pass
        if entries:  # a year the package does not know, entered by an admin
            return day.weekday() < 5
        raise CalendarNotEntered(day.year)

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the first working day after it."""
        for _ in range(MAX_DAYS):
            if self.is_working_day(day):
                return day
            day += ONE_DAY
        raise ValueError("no working day within ten years")  # pragma: no cover - calendar data error

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after ``day`` (``day`` not counted); n = 0 gives ``day``."""
        if not 0 <= n <= MAX_DAYS:
            raise ValueError(f"working days out of range: {n}")
        while n:
            day += ONE_DAY
            if self.is_working_day(day):
                n -= 1
        return day

    def period_end(self, start: date, days: int) -> date:
        """Last day of a period of ``days`` calendar days that starts on ``start``."""
        if not 0 <= days <= MAX_DAYS:
            raise ValueError(f"days out of range: {days}")
        return self.next_working_day(start + timedelta(days=days))


def is_working_day(day: date) -> bool:
    """True on Chinese working days (make-up working days included, holidays excluded)."""
    return WorkCalendar().is_working_day(day)


def next_working_day(day: date) -> date:
    """``day`` if it is a working day, else the next working day."""
    return WorkCalendar().next_working_day(day)


def add_working_days(day: date, n: int) -> date:
    """The n-th working day after ``day``, ``day`` not counted (民法典 第二百零一条)."""
    return WorkCalendar().add_working_days(day, n)


def period_end(start: date, days: int) -> date:
    """End of a calendar-day period (民法典 第二百零一条, 第二百零三条)."""
    return WorkCalendar().period_end(start, days)
