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
package does not know, Monday–Friday — but only once an admin has marked that year
complete (``holiday_years``, citing the notice): a year with a few days entered is not a
year entered (with only 元旦 and 春节 of 2027 entered, 2027-10-01 would count as a
working day). A date in a year that is neither known nor complete raises
:class:`CalendarNotEntered`, a domain error that tells the user the year's calendar must
be entered or completed — never a NotImplementedError, never a wrong count.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import permissions
from ..errors import DomainError
from ..extensions import db
from ..roles import Role
from ..timeutil import local_today  # noqa: F401 - the calendar's today, used across modules

permissions.define("calendar.manage", {Role.ADMIN})
#: Officers see the calendar (and are warned in December when next year is missing).
permissions.define("calendar.view", {Role.ADMIN, Role.OFFICER})

ONE_DAY = timedelta(days=1)
#: A working-day count far above any rule's, so a wrong argument fails fast.
MAX_DAYS = 3660


class CalendarNotEntered(DomainError):
    """The holiday calendar of a year is not known yet (not entered, or entered but not
    marked complete)."""

    status_code = 409

    def __init__(self, year: int, *, entered: bool = False):
        if entered:
            message = _l("The working-day calendar for %(year)s is not complete yet: some days are entered, but "
                         "an administrator must enter every day of the State Council's notice and mark the year "
                         "complete (Administration → Holiday calendar).", year=year)
        else:
            message = _l("The working-day calendar for %(year)s has not been entered yet. An administrator "
                         "must enter that year's holidays and make-up working days from the State Council's "
                         "notice (Administration → Holiday calendar).", year=year)
        super().__init__(message)
        self.year = year
        self.entered = entered


@lru_cache(maxsize=256)
def package_knows(year: int) -> bool:
    """Whether the chinesecalendar package holds the State Council's notice of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def year_is_complete(year: int) -> bool:
    """Whether an admin marked ``year`` complete."""
    from .models import HolidayYear

    return bool(db.session.scalar(select(HolidayYear.is_complete).where(HolidayYear.year == year)))


def year_ready(year: int) -> bool:
    """Whether working days can be counted in ``year``: the package knows it, or an admin
    marked it complete."""
    return package_knows(year) or year_is_complete(year)




def next_year_missing(today: date | None = None) -> int | None:
    """In December, next year if its calendar is not ready (neither known to the package
    nor marked complete), so that officers and admins are warned; otherwise None."""
    today = today or local_today()
    if today.month != 12 or year_ready(today.year + 1):
        return None
    return today.year + 1


class WorkCalendar:
    """Answers ``is_working_day`` from the table and the package, loading the table's
    entries one year at a time (per year touched: one query for its days and, for a year
    the package does not know, one for its complete mark)."""

    def __init__(self):
        self._years: dict[int, dict[date, bool]] = {}
        self._ready: dict[int, bool] = {}

    def _entries(self, year: int) -> dict[date, bool]:
        if year not in self._years:
            from .models import DayKind, HolidayEntry

            rows = db.session.execute(
                select(HolidayEntry.day, HolidayEntry.kind)
                .where(HolidayEntry.day >= date(year, 1, 1), HolidayEntry.day < date(year + 1, 1, 1))).all()
            self._years[year] = {row.day: row.kind == DayKind.WORKDAY for row in rows}
            self._ready[year] = year_ready(year)
        return self._years[year]

    def is_working_day(self, day: date) -> bool:
        entries = self._entries(day.year)
        if not self._ready[day.year]:  # a year neither the package knows nor marked complete
            raise CalendarNotEntered(day.year, entered=bool(entries))
        if day in entries:
            return entries[day]
        if package_knows(day.year):
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5  # a year entered by an admin and marked complete

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
