"""The key read pages served again while nothing they could show has changed (issue 8).

A page's HTML is kept in Redis for at most ``PAGE_CACHE_SECONDS`` (default 60) under a key
naming who asks (the user and the session's CSRF secret, so the forms on the page carry
this session's tokens), the language and the full path, **together with the data version
it was built from**. The data version is one Redis counter per database, raised after every
transaction that wrote: any INSERT, UPDATE, DELETE, TRUNCATE or schema change seen on any
connection of any process that runs the app (web, Celery worker, command line), the
ORM's statements and raw SQL alike. The counter is read *before* the page reads its data,
and raised only after the write is committed, so a page kept under a version can hold
that version's data or newer, never older: once a write has committed and raised the
counter, no request is answered from a page built before it.

What the key cannot see, the lifetime bounds: what a page computes from the clock (a
milestone overdue since midnight) or a raise that failed because Redis was unreachable
for a moment is at most ``PAGE_CACHE_SECONDS`` old. A request with a flash message waiting,
a non-GET request, an anonymous one, and any answer but a 200 HTML page are never kept.
Without Redis the pages are simply built every time.

Reading is switched on by ``PAGE_CACHE`` (on in development and production, off in
testing so that each test sees the page built, with tests of this module switching it
on); the counter is raised everywhere, whatever ``PAGE_CACHE`` says, so that a process
that never reads the cache (a worker, an import) still invalidates the pages of the web
processes that do.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from functools import wraps
from itertools import count

import sqlalchemy as sa
from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user

log = logging.getLogger(__name__)

#: A statement that changes data or schema (a CTE may end in a write: WITH … UPDATE).
_WRITES = re.compile(r"\s*(?:insert|update|delete|merge|truncate|alter|create|drop|copy|comment)\b"
                     r"|\s*with\b.*\b(?:insert|update|delete)\b", re.IGNORECASE | re.DOTALL)
_WROTE = "pagecache.wrote"

#: (hits, misses, bumps): read by the tests and the benchmark.
stats = {"hits": 0, "misses": 0, "bumps": 0}


def writes(statement: str) -> bool:
    """Whether ``statement`` changes data or schema."""
    return _WRITES.match(statement) is not None


class _Store:
    """One Redis client per (process, URL), and the database's counter name. Redis that
    does not answer is left alone for a few seconds instead of slowing every request."""

    def __init__(self, redis_url: str, database_url: str):
        self.redis_url = redis_url
        ident = sa.make_url(database_url).render_as_string(hide_password=True)
        self.namespace = hashlib.sha1(ident.encode()).hexdigest()[:12]
        self.version_key = f"procure:dataversion:{self.namespace}"
        self._client = None
        self._down_until = 0.0

    @property
    def client(self):
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(self.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return self._client

    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def failed(self, exc: Exception) -> None:
        log.warning("page cache: Redis did not answer (%s); pages are built without it for 5 s", exc)
        self._down_until = time.monotonic() + 5

    def bump(self) -> None:
        if not self.available():
            return
        try:
            self.client.incr(self.version_key)
            stats["bumps"] += 1
        except Exception as exc:  # noqa: BLE001 - any Redis failure: pages live at most PAGE_CACHE_SECONDS
            self.failed(exc)


_salts = count(1)


def redis_py_url(url: str | None) -> str | None:
    """``REDIS_URL`` as redis-py spells it, or None when it names no Redis. Celery's kombu
    spells a unix socket ``redis+socket://`` (the embedded demo Redis), the limits library
    ``redis+unix://``; redis-py wants ``unix://``."""
    if not url:
        return None
    for prefix in ("redis+socket://", "redis+unix://"):
        if url.startswith(prefix):
            return "unix://" + url[len(prefix):]
    return url if url.startswith(("redis://", "rediss://", "unix://")) else None


def init_app(app, engine) -> None:
    """Raise the data version after each writing transaction on ``engine``; let the
    views of ``app`` read the cache when ``PAGE_CACHE`` is on. Without a Redis in
    ``REDIS_URL``, nothing: pages are built every time."""
    redis_url = redis_py_url(app.config.get("REDIS_URL"))
    if not redis_url:
        return
    store = _Store(redis_url, str(engine.url))
    # Pages of another app object (another configuration in the same process, another
    # code version after a restart) are never served: the salt names this one.
    store.salt = f"{time.time():.6f}.{next(_salts)}"
    app.extensions["pagecache"] = store

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        if not conn.info.get(_WROTE) and writes(statement):
            conn.info[_WROTE] = True

    def rolled_back(conn):
        conn.info.pop(_WROTE, None)

    def checked_in(dbapi_connection, record):
        # After the transaction's end (commit, or the pool's reset), so never before the
        # data is visible. A write left uncommitted and reset raises it too: harmless.
        if record.info.pop(_WROTE, None):
            store.bump()

    sa.event.listen(engine, "before_cursor_execute", before_cursor_execute)
    sa.event.listen(engine, "rollback", rolled_back)
    sa.event.listen(engine.pool, "checkin", checked_in)


def _key(store: _Store, user) -> str:
    raw = f"{store.salt}|{user.id}|{session.get('csrf_token', '')}|{get_locale()}|{request.full_path}"
    return f"procure:page:{store.namespace}:{hashlib.sha1(raw.encode()).hexdigest()}"


def cached(view):
    """Serve the view's page from the cache while the data version is unchanged."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        store = current_app.extensions.get("pagecache")
        if (store is None or not current_app.config.get("PAGE_CACHE") or request.method != "GET"
                or session.get("_flashes") or not current_user.is_authenticated or not store.available()):
            return view(*args, **kwargs)
        key = _key(store, current_user)
        try:
            version, kept = store.client.mget(store.version_key, key)
        except Exception as exc:  # noqa: BLE001 - no cache: build the page
            store.failed(exc)
            return view(*args, **kwargs)
        version = version or b"0"
        if kept is not None:
            kept_version, _, body = kept.partition(b"\n")
            if kept_version == version:
                stats["hits"] += 1
                return body.decode()
        stats["misses"] += 1
        rv = view(*args, **kwargs)
        page = rv[0] if isinstance(rv, tuple) and len(rv) == 2 and rv[1] == 200 else rv
        if isinstance(page, str):
            try:
                ttl = current_app.config.get("PAGE_CACHE_SECONDS", 60)
                # under the key of the session as it is now: building the page may have
                # given the session its CSRF secret (the page's forms carry tokens of it)
                store.client.set(_key(store, current_user), version + b"\n" + page.encode(), ex=ttl)
            except Exception as exc:  # noqa: BLE001 - the page is answered all the same
                store.failed(exc)
        return rv

    return wrapper
