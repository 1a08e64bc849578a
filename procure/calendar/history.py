"""How the history of the holiday calendar reads (see procure/history.py)."""

from __future__ import annotations

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from ..history import Date, Enum, Field, describe_actions, describe_object
from .models import DayKind, HolidayEntry

describe_object("holiday_entries", _l("Calendar day"), model=HolidayEntry, name=lambda e: format_date(e.day, "medium"),
                fields={"day": Field(_l("Day"), Date()), "kind": Field(_l("Kind"), Enum(DayKind)),
                        "note": Field(_l("Note"))})

describe_actions({"calendar.set": _l("Calendar day entered"), "calendar.update": _l("Calendar day changed"),
                  "calendar.delete": _l("Calendar day removed")})
