"""What a printed report carries below its figures, as a bureau's forms do: the preparing
unit (编制单位), the date it was prepared (编制日期, the Beijing day in the reader's
language: 2026年11月28日), and the lines where the preparer (制表人) and the reviewer
(审核人) sign. One :class:`Signoff` per report; PDFs print it with the
``pdf/_signoff.html`` macro, spreadsheets with :func:`xlsx_signoff`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .timeutil import long_day, to_local, utcnow

#: The line a signature goes on.
SIGN_LINE = "＿＿＿＿＿＿＿＿"


@dataclass(frozen=True)
class Signoff:
    unit: str  #: 编制单位: the preparing department's name
    day: date  #: 编制日期: the Beijing day it was prepared
    preparer: str = ""  #: 制表人's name, printed before the signature line when known
    sep: str = "："  #: between a label and its value: full-width in Chinese, ": " in English

    @property
    def day_text(self) -> str:
        """The day in the current language (2026年11月28日)."""
        return long_day(self.day)


def _default_unit() -> str:
    return current_app.config.get("ISSUER_NAME") or str(_l("Procure, the purchase-of-services system"))


def signoff_for(user=None, *, unit: str | None = None, at: datetime | None = None) -> Signoff:
    """The sign-off of a report prepared by ``user`` (who asked for it) at ``at`` (a
    stored naive-UTC time; now by default): the unit is ``unit`` if given, else the
    user's department (loaded with the user), else the configured issuer."""
    dept = getattr(user, "department", None) if user is not None else None
    name = unit or getattr(dept, "name", None) or _default_unit()
    sep = "：" if str(get_locale() or "zh").startswith("zh") else ": "
    return Signoff(name, to_local(at or utcnow()).date(), getattr(user, "name", "") or "", sep)


def signoff_lines(s: Signoff) -> list[tuple[str, str]]:
    """(label, value) pairs, in print order."""
    return [(_("Preparing unit"), s.unit), (_("Date prepared"), s.day_text),
            (_("Prepared by"), f"{s.preparer} {SIGN_LINE}".strip()), (_("Reviewed by"), SIGN_LINE)]


def xlsx_signoff(ws, s: Signoff) -> int:
    """Append the sign-off below a sheet's table (one blank row, then 编制单位 and
    编制日期 on one row, 制表人 and 审核人 on the next); returns the first row used."""
    first = ws.max_row + 2
    (unit_l, unit), (day_l, day), (prep_l, prep), (rev_l, rev) = signoff_lines(s)
    ws.cell(row=first, column=1, value=f"{unit_l}{s.sep}{unit}")
    ws.cell(row=first, column=4, value=f"{day_l}{s.sep}{day}")
    ws.cell(row=first + 1, column=1, value=f"{prep_l}{s.sep}{prep}")
    ws.cell(row=first + 1, column=4, value=f"{rev_l}{s.sep}{rev}")
    return first
