"""The embedded default (SQLite) under concurrent use: every connection runs in WAL
mode (readers never wait for a writer, a writer never waits for readers) with a busy
timeout (a second writer waits for the first instead of failing at once with "database
is locked"). Progress writes from inside a long transaction use :func:`short_write`,
which on SQLite gives up after a moment instead of waiting for the caller's own lock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

#: How long a SQLite writer waits for another one (ms); config SQLITE_BUSY_TIMEOUT_MS.
DEFAULT_BUSY_TIMEOUT_MS = 15_000
#: How long a progress write waits before it skips its tick (ms).
SHORT_WRITE_TIMEOUT_MS = 100


def _pragmas(busy_timeout_ms: int):
    def on_connect(dbapi_conn, _record) -> None:
        if not isinstance(dbapi_conn, sqlite3.Connection):
            return
        cur = dbapi_conn.cursor()
        try:
            # A file database switches to WAL once (it is a property of the file); an
            # in-memory one answers "memory" and stays as it is.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a commit is one fsync less
        finally:
            cur.close()

    return on_connect


def configure_sqlite(app: Flask, engines: list[Engine]) -> None:
    """Set the pragmas on every new connection of the app's SQLite engines."""
    timeout = int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", DEFAULT_BUSY_TIMEOUT_MS))
    for engine in engines:
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _pragmas(timeout))


@contextmanager
def short_write(engine: Engine) -> Iterator[Connection]:
    """A connection of its own for a small write that must not wait (a progress tick
    while the caller's own transaction holds SQLite's write lock): yields a connection
    in a transaction that commits on exit. On SQLite, when the lock is not free within
    SHORT_WRITE_TIMEOUT_MS the write is dropped (the tick is skipped), not raised. On
    PostgreSQL rows are locked, not the database: errors are raised as usual."""
    with engine.connect() as conn:
        is_sqlite = conn.dialect.name == "sqlite"
        if is_sqlite:
            _set_busy_timeout(conn, SHORT_WRITE_TIMEOUT_MS)
        try:
            with conn.begin():
                yield conn
        except OperationalError:
            if not is_sqlite:
                raise
        finally:
            if is_sqlite:  # the connection goes back to the pool with the usual timeout
                _set_busy_timeout(conn, current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", DEFAULT_BUSY_TIMEOUT_MS))


def _set_busy_timeout(conn: Connection, ms: int) -> None:
    conn.exec_driver_sql(f"PRAGMA busy_timeout={int(ms)}")
    conn.commit()  # ends the transaction the statement began (SQLAlchemy's autobegin)
