"""Time helpers. Datetimes are stored as naive UTC (``*_at`` columns) and shown in
Asia/Shanghai (Flask-Babel's default timezone)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Now, as a naive UTC datetime (the form every ``*_at`` column stores)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_local(dt: datetime) -> datetime:
    """A stored naive-UTC datetime as an aware Asia/Shanghai one."""
    return dt.replace(tzinfo=UTC).astimezone(SHANGHAI)
