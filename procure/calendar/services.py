"""Entering the holiday calendar (admins, from the State Council's notice): days one by
one or as a batch pasted from the notice, and marking a year complete (citing the
notice) or un-marking it (with a reason). A complete year's days are locked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..errors import Conflict, NotFound, ValidationError
from ..extensions import db
from ..permissions import require
from ..timeutil import utcnow
from .models import DayKind, HolidayEntry, HolidayYear

audit.ACTION_LABELS.update({
    "calendar.set": _l("Calendar day entered"),
    "calendar.update": _l("Calendar day changed"),
    "calendar.delete": _l("Calendar day removed"),
    "calendar.year_complete": _l("Calendar year marked complete"),
    "calendar.year_reopen": _l("Calendar year un-marked"),
})
audit.OBJECT_LABELS.update({"holiday_entries": _l("Calendar day"), "holiday_years": _l("Calendar year")})

NOTE_MAX = 200
NOTICE_MAX = 300
REASON_MAX = 500
#: A notice lists about 30 days; a batch of a whole year's lines stays far below this.
BATCH_MAX_LINES = 400
#: The longest holiday of a notice (春节, 国庆) is 8–9 days; a longer range is a typo.
RANGE_MAX_DAYS = 31

KIND_WORDS = {
    "休": DayKind.HOLIDAY, "假": DayKind.HOLIDAY, "放假": DayKind.HOLIDAY, "holiday": DayKind.HOLIDAY,
    "班": DayKind.WORKDAY, "上班": DayKind.WORKDAY, "workday": DayKind.WORKDAY, "work": DayKind.WORKDAY,
}
_DATE = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_WHEN = re.compile(rf"{_DATE}(?:\s*(?:~|～|至|–|—|\.\.)\s*{_DATE})?")
_SEP = re.compile(r"[\s,，;；]+")


class BatchInvalid(ValidationError):
    """A batch with errors: nothing was saved; ``errors`` says what is wrong on which line."""

    def __init__(self, errors: list):
        super().__init__(_l("Nothing was saved: %(n)d lines have errors.", n=len(errors)), field="lines")
        self.errors = errors


@dataclass(frozen=True)
class BatchDay:
    day: date
    kind: DayKind
    note: str
    line: int


def _line_error(line: int, message) -> object:
    return _l("Line %(line)d: %(error)s", line=line, error=message)


def _date(y: str, m: str, d: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def parse_batch(text: str) -> tuple[list[BatchDay], list]:
    """Read a batch: one line per day or range, ``date kind name``, e.g.
    ``2027-10-01~2027-10-07 休 国庆节`` or ``2027-09-26 班 国庆节调休``. Kinds: 休/假/holiday
    (a rest day) and 班/上班/workday (a make-up working day, which falls on a weekend).
    Blank lines and lines starting with # are skipped. Returns the days and the errors
    (each naming its line); no database access."""
    days: list[BatchDay] = []
    errors: list = []
    lines = (text or "").splitlines()
    if len(lines) > BATCH_MAX_LINES:
        return [], [_l("At most %(n)d lines at a time.", n=BATCH_MAX_LINES)]
    first_line: dict[date, int] = {}
    for no, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        when = _WHEN.match(line)
        if when is None:
            errors.append(_line_error(no, _l("start with a date such as 2027-10-01 or a range such as "
                                             "2027-10-01~2027-10-07.")))
            continue
        rest = _SEP.split(_SEP.sub(" ", line[when.end():]).strip(), maxsplit=1)
        kind_word, note = (rest + [""])[:2] if rest != [""] else ("", "")
        start = _date(*when.group(1, 2, 3))
        end = _date(*when.group(4, 5, 6)) if when.group(4) else start
        if start is None or end is None:
            errors.append(_line_error(no, _l("this date does not exist.")))
            continue
        if end < start:
            errors.append(_line_error(no, _l("the range ends before it starts.")))
            continue
        if (end - start).days >= RANGE_MAX_DAYS:
            errors.append(_line_error(no, _l("a range covers at most %(n)d days.", n=RANGE_MAX_DAYS)))
            continue
        kind = KIND_WORDS.get(kind_word.lower())
        if kind is None:
            errors.append(_line_error(no, _l("after the date write 休 (rest day) or 班 (make-up working day).")))
            continue
        note = note.strip()
        if not note:
            errors.append(_line_error(no, _l("give the holiday's name, e.g. 国庆节.")))
            continue
        if len(note) > NOTE_MAX:
            errors.append(_line_error(no, _l("the name is too long (at most %(n)d characters).", n=NOTE_MAX)))
            continue
        day, bad = start, False
        while day <= end:
            if kind == DayKind.WORKDAY and day.weekday() < 5:
                errors.append(_line_error(no, _l("%(day)s is a weekday: a make-up working day falls on a "
                                                 "Saturday or Sunday.", day=day.isoformat())))
                bad = True
                break
            if day in first_line:
                errors.append(_line_error(no, _l("%(day)s is already on line %(other)d.", day=day.isoformat(),
                                                 other=first_line[day])))
                bad = True
                break
            first_line[day] = no
            day += timedelta(days=1)
        if not bad:
            days.extend(BatchDay(start + timedelta(days=i), kind, note, no) for i in range((end - start).days + 1))
    if not errors and not days:
        errors.append(_l("Enter at least one line."))
    return days, errors


def _check_year(year) -> int:
    if not isinstance(year, int) or not MINYEAR < year < MAXYEAR:
        raise ValidationError(_l("Choose a valid year."), field="year")
    return year


def _complete_years(years) -> set[int]:
    return set(db.session.scalars(select(HolidayYear.year).where(HolidayYear.year.in_(list(years)),
                                                                 HolidayYear.is_complete.is_(True))))


def _locked(year: int):
    return _l("%(year)s is marked complete: un-mark it (with a reason) before changing its days.", year=year)


def _put_day(actor, day: date, kind: DayKind, note: str) -> HolidayEntry:
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


def set_calendar_day(actor, day: date, kind: DayKind, note: str = "") -> HolidayEntry:
    """Enter (or change) one day: a holiday on a weekday or a working day on a weekend.
    Admins only; refused in a year marked complete; audited; flushes."""
    require(actor, "calendar.manage")
    if not isinstance(day, date):
        raise ValidationError(_l("Please give a date."), field="day")
    kind = DayKind(kind)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError(_l("The note is too long (at most 200 characters)."), field="note")
    if _complete_years([day.year]):
        raise ValidationError(_locked(day.year), field="day")
    return _put_day(actor, day, kind, note)


def enter_calendar_days(actor, text: str) -> list[HolidayEntry]:
    """Enter a batch of days (see :func:`parse_batch`) all or nothing: any line with an
    error, or a day in a year marked complete, refuses the whole batch with every error
    named by its line (:class:`BatchInvalid`). An entered day is changed to what the
    batch says. Admins only; audited per day; flushes."""
    require(actor, "calendar.manage")
    days, errors = parse_batch(text)
    if errors:
        raise BatchInvalid(errors)
    locked = _complete_years({d.day.year for d in days})
    if locked:
        reported = set()
        for d in days:
            if d.day.year in locked and d.line not in reported:
                reported.add(d.line)
                errors.append(_line_error(d.line, _locked(d.day.year)))
        raise BatchInvalid(errors)
    return [_put_day(actor, d.day, d.kind, d.note) for d in days]


def delete_calendar_day(actor, entry_id: int) -> None:
    """Remove one entered day (the day then follows the weekday rule or the package).
    Refused in a year marked complete."""
    require(actor, "calendar.manage")
    entry = db.session.get(HolidayEntry, entry_id)
    if entry is None:
        raise NotFound(_l("This calendar entry does not exist."))
    if _complete_years([entry.day.year]):
        raise ValidationError(_locked(entry.day.year))
    audit.record(actor, "calendar.delete", entry, before=entry.snapshot())
    db.session.delete(entry)
    db.session.flush()


def _year_row(year: int) -> HolidayYear:
    """The year's row, locked for this transaction (created when missing)."""
    row = db.session.scalar(select(HolidayYear).where(HolidayYear.year == year).with_for_update()
                         .execution_options(populate_existing=True))
    if row is None:
        row = HolidayYear(year=year, is_complete=False, notice_ref="")
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # created at the same moment by another admin
            row = db.session.scalar(select(HolidayYear).where(HolidayYear.year == year).with_for_update())
    return row


def mark_year_complete(actor, year: int, notice_ref: str, notice_date: date | None) -> HolidayYear:
    """Declare every day of ``year``'s State Council notice entered, citing the notice
    (文号 / title, date issued — in that year or the year before). From then on working
    days are counted in that year and its days are locked. Incomplete → complete.
    Admins only; audited; flushes."""
    require(actor, "calendar.manage")
    year = _check_year(year)
    notice_ref = (notice_ref or "").strip()
    if not notice_ref:
        raise ValidationError(_l("Cite the notice: its number (文号) or title."), field="notice_ref")
    if len(notice_ref) > NOTICE_MAX:
        raise ValidationError(_l("At most %(n)d characters.", n=NOTICE_MAX), field="notice_ref")
    if not isinstance(notice_date, date):
        raise ValidationError(_l("Give the date the notice was issued."), field="notice_date")
    if notice_date.year not in (year - 1, year):
        raise ValidationError(_l("The notice for %(year)s is issued late in %(before)s or in %(year)s.",
                                 year=year, before=year - 1), field="notice_date")
    entered = db.session.scalar(select(func.count()).select_from(HolidayEntry).where(
        HolidayEntry.day >= date(year, 1, 1), HolidayEntry.day < date(year + 1, 1, 1))) or 0
    if not entered:
        raise ValidationError(_l("No day of %(year)s is entered yet: enter the notice's days first.", year=year),
                              field="notice_ref")
    row = _year_row(year)
    if row.is_complete:
        raise Conflict(_l("%(year)s is already marked complete.", year=year))
    before = row.snapshot()
    row.is_complete, row.notice_ref, row.notice_date = True, notice_ref, notice_date
    row.changed_by_id, row.changed_at = actor.id, utcnow()
    db.session.flush()
    audit.record(actor, "calendar.year_complete", "holiday_years", year, before=before, after=row.snapshot())
    return row


def reopen_year(actor, year: int, reason: str) -> HolidayYear:
    """Un-mark a complete year so that its days can be corrected; counting working days in
    it (for a year the package does not know) is refused again until it is marked complete.
    Complete → incomplete. Admins only; a reason is required; audited; flushes."""
    require(actor, "calendar.manage")
    year = _check_year(year)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_l("Say why the year is un-marked."), field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationError(_l("At most %(n)d characters.", n=REASON_MAX), field="reason")
    row = db.session.scalar(select(HolidayYear).where(HolidayYear.year == year).with_for_update())
    if row is None or not row.is_complete:
        raise Conflict(_l("%(year)s is not marked complete.", year=year))
    before = row.snapshot()
    row.is_complete = False
    row.changed_by_id, row.changed_at = actor.id, utcnow()
    db.session.flush()
    audit.record(actor, "calendar.year_reopen", "holiday_years", year, before=before,
                 after=dict(row.snapshot(), reason=reason))
    return row
