"""Time helpers. Datetimes are stored as naive UTC (``*_at`` columns) and shown in
Asia/Shanghai (Flask-Babel's default timezone)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask_babel import format_date

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Now, as a naive UTC datetime (the form every ``*_at`` column stores)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_local(dt: datetime) -> datetime:
    """A stored naive-UTC datetime as an aware Asia/Shanghai one."""
    return dt.replace(tzinfo=UTC).astimezone(SHANGHAI)


def long_day(value) -> str:
    """A day as people write it in the current language: 2026年12月3日, December 3, 2026.
    Takes a date, a stored (naive UTC) datetime — shown as its Beijing day — or an ISO
    date string; anything else is shown as it is."""
    if isinstance(value, datetime):
        value = to_local(value).date()
    elif isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, date):
        return "" if value is None else str(value)
    return format_date(value, "long")


def long_time(value: datetime | None) -> str:
    """A stored (naive UTC) time as a Chinese sentence writes it, in Beijing time:
    2026年11月28日 08:33 (November 28, 2026 08:33 in English); None gives ""."""
    if value is None:
        return ""
    return f"{long_day(value)} {to_local(value):%H:%M}"
