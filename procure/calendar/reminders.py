"""The holiday calendar's reminder rule, registered with the generic engine
(``procure.reminders.engine``); found at start-up by ``modules.submodules("reminders")``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l

from ..reminders.engine import Due, ReminderRule, admins, officers, register
from . import year_ready


def _holiday_calendar_missing(today: date, offsets: tuple) -> Iterable[tuple[int, Due]]:
    """In December (offsets are days before 1 January): next year's working-day calendar
    is neither known to the package nor marked complete, so periods that run into it
    cannot be counted. Officers (who set the periods) and admins (who enter the notice)
    are told."""
    for offset in offsets:
        if offset <= 0:
            continue
        day = today + timedelta(days=offset)
        if (day.month, day.day) != (1, 1) or year_ready(day.year):
            continue
        yield offset, Due("holiday_years", day.year, day, {"officer": officers(), "admin": admins()},
                          "calendar.index", {"year": day.year}, {"year": day.year, "due": day})


register(ReminderRule(
    "calendar.next_year_missing", _l("Next year's holiday calendar not complete"), "reminder_holiday_calendar_missing",
    "reminder.holiday_calendar_days", _holiday_calendar_missing, recipients=("officer", "admin"), is_critical=True))
