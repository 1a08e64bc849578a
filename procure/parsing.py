"""Input parsing in one place: ids, bounded integers, page numbers, years, dates,
amounts, and the text filter for control characters.

Whatever a user or a link types reaches the database only through these: an id above
the column's range, a 400-digit page number or a NUL byte (which PostgreSQL refuses with
an error) become "not found", the default, or a clear message in the user's language —
never a 500. The hooks that apply them everywhere: :class:`IdConverter` (every
``<int:…>`` in a route), :func:`check_request_text` (every query parameter and path
segment), ``procure.forms`` (every form field) and ``db.paginate`` (every ``?page=``).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from .errors import ValidationError
from .timeutil import local_today

#: Largest amount a Numeric(14, 2) column holds.
MAX_AMOUNT = Decimal("999999999999.99")
#: Largest value an INTEGER column (ids, counts) holds.
MAX_ID = 2**31 - 1
#: Largest value a BIGINT column holds (the ids of jobs, documents, audit events).
MAX_BIGINT = 2**63 - 1
#: Page numbers beyond this are treated as past the last page.
MAX_PAGE = 10**6
#: Rows per page a link may ask for.
MAX_PER_PAGE = 200
FIRST_FISCAL_YEAR = 2000
#: How many years ahead a budget may be entered.
YEARS_AHEAD = 5

_DIGITS = re.compile(r"[0-9]{1,30}")
#: C0 and C1 control characters and DEL; \t \n \r are allowed where a text area is.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

CONTROL_CHARS_MESSAGE = _l("This text contains control characters (such as a NUL byte) that cannot be "
                           "stored. Please retype it.")
NUMBER_TOO_LARGE_MESSAGE = _l("The number is too large.")
NOT_A_NUMBER_MESSAGE = _l("Enter a number.")


# --- text ------------------------------------------------------------------------------

def has_control_chars(text: str, *, multiline: bool = False) -> bool:
    """True when ``text`` holds a control character; ``multiline`` allows tab, line
    feed and carriage return (text areas)."""
    return bool((_CONTROL_EXCEPT_LINES if multiline else _CONTROL).search(text))


def reason_text(value, field: str, message, *, limit: int = 2000) -> str:
    """The reason an irreversible action requires (a return, a cancellation, a listing):
    stripped; refused when empty, blank, holding a control character (a NUL byte would
    fail in the database) or longer than ``limit``, each with a message to show."""
    text = value.strip() if isinstance(value, str) else ""
    if has_control_chars(text, multiline=True):
        raise ValidationError(CONTROL_CHARS_MESSAGE, field=field)
    if not text:
        raise ValidationError(message, field=field)
    if len(text) > limit:
        raise ValidationError(_l("The text is too long (at most %(n)d characters).", n=limit), field=field)
    return text


def check_request_text() -> None:
    """Refuse (400, a clear message) a request whose query string or path carries a
    control character: a NUL byte would reach the database and fail there. Runs before
    every view."""
    from flask import request

    values = [*request.args.keys(), *request.args.values()]
    values += [v for v in (request.view_args or {}).values() if isinstance(v, str)]
    if any(has_control_chars(v) for v in values):
        raise ValidationError(_l("The address contains control characters (such as a NUL byte); "
                                 "check the link."))


# --- numbers -------------------------------------------------------------------------

def parse_int(raw, *, min_value: int = 0, max_value: int = MAX_ID) -> int | None:
    """A plain non-negative decimal number within [min_value, max_value], else None.
    ASCII digits only (``str.isdigit`` accepts "²", which int() refuses), and no more
    than 30 of them before converting."""
    text = str(raw if raw is not None else "").strip()
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if min_value <= value <= max_value else None


def parse_id(raw) -> int | None:
    """An id typed into a request as an int, or None when it is not a plain positive
    number or is too large for an INTEGER column (the database would refuse it)."""
    return parse_int(raw, min_value=1, max_value=MAX_ID)


def page_arg(name: str = "page") -> int:
    """The page number of a list from the query string: 1 for junk, at most MAX_PAGE."""
    from flask import request

    raw = request.args.get(name, "")
    if _DIGITS.fullmatch(raw.strip()) and int(raw) > MAX_PAGE:
        return MAX_PAGE
    return parse_int(raw, min_value=1, max_value=MAX_PAGE) or 1


def per_page_arg(default: int, maximum: int = MAX_PER_PAGE, name: str = "per_page") -> int:
    """Rows per page from the query string, within [1, maximum], else ``default``."""
    from flask import request

    return parse_int(request.args.get(name), min_value=1, max_value=maximum) or default


def parse_year(raw, *, first: int = 1900, last: int = 2100) -> int | None:
    """A four-digit calendar year within [first, last], else None."""
    return parse_int(raw, min_value=first, max_value=last)


def parse_date(raw) -> date | None:
    """An ISO date (2026-01-31) between the years 1900 and 2100, else None."""
    text = str(raw if raw is not None else "").strip()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if 1900 <= day.year <= 2100 else None


def check_fiscal_year(year, field: str = "fiscal_year") -> int:
    """A fiscal year between 2000 and five years from now, else ValidationError."""
    last = local_today().year + YEARS_AHEAD
    value = year if isinstance(year, int) and not isinstance(year, bool) else parse_int(year, max_value=9999)
    if value is None or not FIRST_FISCAL_YEAR <= value <= last:
        raise ValidationError(_l("The fiscal year must be between %(first)d and %(last)d.",
                                 first=FIRST_FISCAL_YEAR, last=last), field=field)
    return value


def fiscal_year_arg(default, name: str = "year") -> int:
    """The fiscal year a link asks for (``?year=``), or ``default()`` when it is missing,
    junk or out of range: a bad year in a link falls back, it is not an error."""
    from flask import request

    try:
        return check_fiscal_year(request.args.get(name, ""), name)
    except ValidationError:
        return default()


# --- money ---------------------------------------------------------------------------

def parse_amount(value, field: str = "amount", *, allow_negative: bool = False,
                 allow_zero: bool = False) -> Decimal:
    """A Decimal with at most two decimals (fen), positive unless told otherwise."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        amount = Decimal(str(value).strip().replace(",", "")) if value is not None else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationError(_l("Enter an amount in yuan, e.g. 12345.67."), field=field)
    # adjusted() first: abs() of "1e999999999" overflows the decimal context.
    if amount.adjusted() > MAX_AMOUNT.adjusted() or abs(amount) > MAX_AMOUNT:
        raise ValidationError(_l("The amount is too large."), field=field)
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(_l("Amounts have at most two decimals (fen)."), field=field)
    if amount < 0 and not allow_negative:
        raise ValidationError(_l("The amount cannot be negative."), field=field)
    if amount == 0 and not allow_zero:
        raise ValidationError(_l("The amount must not be zero."), field=field)
    return amount.quantize(Decimal("0.01"))


# --- routing -------------------------------------------------------------------------

class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: a number above the INTEGER range of the id columns does
    not match, so the answer is 404 instead of an OverflowError or a database error
    (``integer out of range``). Registered as ``int`` on the app's URL map before the
    blueprints. (The BIGINT-keyed tables — jobs, documents — reach 2**31 rows never.)"""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002 - werkzeug's names
                 max: int | None = None, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                         signed=signed)

    def to_python(self, value: str):
        if len(value) > 19:  # more digits than any id column holds: do not even convert
            from werkzeug.routing import ValidationError as NoMatch

            raise NoMatch()
        return super().to_python(value)
