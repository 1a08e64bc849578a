"""Working days and periods (民法典 201/203) around 2026 National Day and into 2027."""

from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale

from procure.calendar import (
    CalendarNotEntered,
    WorkCalendar,
    add_working_days,
    is_working_day,
    next_working_day,
    period_end,
)
from procure.calendar.models import DayKind
from procure.calendar.services import delete_calendar_day, mark_year_complete, set_calendar_day
from procure.errors import DomainError, NotPermitted
from procure.roles import Role

D = date


@pytest.mark.parametrize("day, working", [
    (D(2026, 9, 19), False),  # Saturday
    (D(2026, 9, 20), True),   # Sunday, make-up working day for National Day
    (D(2026, 9, 25), False),  # Mid-autumn festival (Friday)
    (D(2026, 10, 1), False), (D(2026, 10, 7), False),
    (D(2026, 10, 8), True),
    (D(2026, 10, 10), True),  # Saturday, make-up working day
    (D(2026, 10, 11), False),  # Sunday
])
def test_is_working_day_2026(db, day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize("start, n, expected", [
    (D(2026, 9, 30), 0, D(2026, 9, 30)),
    (D(2026, 9, 30), 1, D(2026, 10, 8)),   # the holiday week is skipped
    (D(2026, 9, 30), 3, D(2026, 10, 10)),  # the make-up Saturday counts
    (D(2026, 9, 30), 4, D(2026, 10, 12)),
    (D(2026, 9, 18), 1, D(2026, 9, 20)),   # Friday → the make-up Sunday
    (D(2026, 10, 3), 1, D(2026, 10, 8)),   # counting from inside the holiday
    (D(2026, 9, 24), 2, D(2026, 9, 29)),   # Mid-autumn Fri–Sun skipped
])
def test_nth_working_day_after(db, start, n, expected):
    assert add_working_days(start, n) == expected


@pytest.mark.parametrize("start, days, expected", [
    (D(2026, 9, 21), 10, D(2026, 10, 8)),   # would end on 10-01 (holiday) → next working day
    (D(2026, 9, 20), 20, D(2026, 10, 10)),  # ends on the make-up Saturday: a working day
    (D(2026, 10, 1), 10, D(2026, 10, 12)),  # ends on Sunday 10-11 → Monday
    (D(2026, 9, 28), 2, D(2026, 9, 30)),    # the first day is not counted
    (D(2026, 10, 5), 0, D(2026, 10, 8)),
])
def test_calendar_day_period_ends_on_a_working_day(db, start, days, expected):
    assert period_end(start, days) == expected


def test_next_working_day(db):
    assert next_working_day(D(2026, 10, 1)) == D(2026, 10, 8)
    assert next_working_day(D(2026, 10, 8)) == D(2026, 10, 8)


def test_crossing_into_an_unentered_year_is_a_clear_domain_error(app, db):
    assert add_working_days(D(2026, 12, 28), 3) == D(2026, 12, 31)  # stays in 2026
    with pytest.raises(CalendarNotEntered) as err:
        add_working_days(D(2026, 12, 28), 5)
    assert err.value.year == 2027 and isinstance(err.value, DomainError)
    assert not isinstance(err.value, NotImplementedError)
    with app.test_request_context(), force_locale("en"):
        message = str(err.value.message)
    assert "2027" in message and "has not been entered" in message
    with pytest.raises(CalendarNotEntered):
        period_end(D(2026, 12, 20), 20)
    with pytest.raises(CalendarNotEntered):
        is_working_day(D(2003, 5, 1))  # before the package's range, nothing entered


def test_an_entered_year_is_used_and_beats_the_package(db, make):
    admin = make.admin()
    set_calendar_day(admin, D(2027, 1, 1), DayKind.HOLIDAY, "元旦")
    mark_year_complete(admin, 2027, "国办发明电〔2026〕1号（测试）", D(2026, 11, 20))
    # 2026-12-28 Mon: 29, 30, 31 (3), 2027-01-01 holiday, 02–03 weekend, 04 (4), 05 (5).
    assert add_working_days(D(2026, 12, 28), 5) == D(2027, 1, 5)
    assert period_end(D(2026, 12, 22), 10) == D(2027, 1, 4)  # ends on the holiday → next working day
    assert is_working_day(D(2027, 3, 3)) is True and is_working_day(D(2027, 3, 6)) is False
    # The table overrides the package for a year it knows.
    set_calendar_day(admin, D(2026, 10, 9), DayKind.HOLIDAY, "test override")
    set_calendar_day(admin, D(2026, 10, 11), DayKind.WORKDAY, "test override")
    assert add_working_days(D(2026, 9, 30), 2) == D(2026, 10, 10)
    assert is_working_day(D(2026, 10, 11)) is True


def test_one_query_per_year_touched(db, make, monkeypatch):
    admin = make.admin()
    set_calendar_day(admin, D(2027, 1, 1), DayKind.HOLIDAY, "元旦")
    mark_year_complete(admin, 2027, "国办发明电〔2026〕1号（测试）", D(2026, 11, 20))
    calendar = WorkCalendar()
    calls = []
    original = calendar._entries.__func__

    def counting(self, year):
        if year not in self._years:
            calls.append(year)
        return original(self, year)

    monkeypatch.setattr(WorkCalendar, "_entries", counting)
    calendar.add_working_days(D(2026, 12, 1), 30)
    assert sorted(calls) == [2026, 2027]


def test_ranges_are_checked(db):
    with pytest.raises(ValueError):
        add_working_days(D(2026, 1, 5), -1)
    with pytest.raises(ValueError):
        period_end(D(2026, 1, 5), -1)


def test_entering_days_is_for_admins_and_audited(db, make):
    officer = make.user(Role.OFFICER)
    with pytest.raises(NotPermitted):
        set_calendar_day(officer, D(2027, 1, 1), DayKind.HOLIDAY, "元旦")
    admin = make.admin()
    entry = set_calendar_day(admin, D(2027, 1, 1), DayKind.HOLIDAY, "元旦")
    same = set_calendar_day(admin, D(2027, 1, 1), DayKind.WORKDAY, "改")
    assert same.id == entry.id and same.kind == DayKind.WORKDAY
    from procure.audit import AuditEvent

    actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.seq)
               if e.object_type == "holiday_entries"]
    assert actions == ["calendar.set", "calendar.update"]
    with pytest.raises(NotPermitted):
        delete_calendar_day(officer, entry.id)
    delete_calendar_day(admin, entry.id)
    with pytest.raises(CalendarNotEntered):
        is_working_day(D(2027, 1, 1))
