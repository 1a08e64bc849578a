"""Money: Decimal only, formatted for the user's locale."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_currency
from flask_babel import get_locale

FEN = Decimal("0.01")


def to_money(value) -> Decimal:
    """A Decimal rounded to the fen; refuses floats so no binary error sneaks in."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        return Decimal(str(value)).quantize(FEN, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def format_money(value, locale=None) -> str:
    """¥12,345.67 in the user's locale (zh_CN by default)."""
    if value is None:
        return ""
    return format_currency(to_money(value), "CNY", locale=str(locale or get_locale() or "zh_CN"))
