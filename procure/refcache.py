"""Reference data read once per worker: the choices of the lists' filters (departments,
service categories, funding sources, fiscal years, registration authorities).

Each is a small read that every list page repeated (three of the project list's seven
statements), whose answer changes rarely. :func:`cached` keeps it per process and reads it
again when

- this process wrote one of the tables it depends on (an ORM flush of one of their models,
  or an INSERT/UPDATE/DELETE statement on one of them): at once;
- it is older than ``ttl`` seconds (another worker's write): at most that late.

Only choices of filters and drop-downs belong here, never what a page lists: a list's rows
and totals are always read live.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

#: Seconds another worker's write may take to show in this worker's choices.
TTL = 60.0

#: table name -> times this process wrote it.
_VERSIONS: dict[str, int] = {}
#: key -> (tables, versions when read, read until, value).
_CACHE: dict[str, tuple[tuple[str, ...], tuple[int, ...], float, Any]] = {}


def _bump(table) -> None:
    name = getattr(table, "name", None)
    if name is not None:
        _VERSIONS[name] = _VERSIONS.get(name, 0) + 1


def cached(key: str, tables: tuple[str, ...], read: Callable[[], Any], ttl: float = TTL) -> Any:
    """``read()``, kept under ``key`` while none of ``tables`` was written by this process
    and for at most ``ttl`` seconds."""
    now = time.monotonic()
    versions = tuple(_VERSIONS.get(t, 0) for t in tables)
    kept = _CACHE.get(key)
    if kept is not None and kept[1] == versions and kept[2] > now:
        return kept[3]
    value = read()
    _CACHE[key] = (tables, versions, now + ttl, value)
    return value


def clear() -> None:
    """Forget everything (tests that write behind the session's back)."""
    _CACHE.clear()


@event.listens_for(Session, "after_flush")
def _flushed(session, _ctx) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        _bump(getattr(type(obj), "__table__", None))


@event.listens_for(Session, "do_orm_execute")
def _written(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        _bump(getattr(state.statement, "table", None))
        for mapper in state.all_mappers:
            _bump(getattr(mapper, "local_table", None))
