"""Shared fixtures.

The suite runs against real PostgreSQL and Redis: ``TEST_DATABASE_URL`` and
``TEST_REDIS_URL`` (``scripts/test.sh`` sets them, starting throwaway servers when none
answer). Without them the local defaults on 127.0.0.1 are used; if those do not answer
the session stops with a message: nothing is skipped silently.

Isolation: the schema is built once per session by the migrations; after every test all
tables are emptied and their ids restarted (``truncate_all``; so tests with a real worker
or a browser, which need committed rows, are isolated the same way as the others).
"""

from __future__ import annotations

import base64
import contextvars
import os
import socket
import subprocess
import sys
import tempfile
from contextlib import closing
from dataclasses import dataclass

import pytest
import redis as redis_lib
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade

from procure import create_app, refcache
from procure.extensions import db as _db

from .factories import Factory

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
TEST_MASTER_KEY = base64.b64encode(os.urandom(32)).decode("ascii")


def _database_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or DEFAULT_DB


def session_database_url() -> str:
    """This session's own database (see ``services_ready``)."""
    return os.environ["PROCURE_SESSION_DATABASE_URL"]


def _redis_url() -> str:
    """Redis of this session; each pytest-xdist worker (gw0, gw1, …) its own database
    (15, 14, …): its Celery queues and keys never meet another worker's."""
    url = sa.engine.make_url(os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw"):
        return url.set(database=str(15 - int(worker[2:]))).render_as_string(hide_password=False)
    return url.render_as_string(hide_password=False)


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_config(**extra) -> dict:
    """Settings of the test apps; ``extra`` overrides."""
    redis_url = _redis_url()
    conf = {
        "SQLALCHEMY_DATABASE_URI": session_database_url(),
        "REDIS_URL": redis_url,
        "CELERY": {
            "broker_url": redis_url, "result_backend": redis_url,
            "task_always_eager": True, "task_eager_propagates": True,
            "task_ignore_result": True, "broker_connection_retry_on_startup": True,
        },
        "MAIL_SUPPRESS_SEND": True,
        # The master key of sealed bids (procure/sealing.py): one per test session.
        "MASTER_KEY": TEST_MASTER_KEY,
        # Stored documents of this session stay out of instance/ (tests may point it at tmp_path).
        "DOCUMENTS_DIR": os.path.join(tempfile.gettempdir(), f"procure-test-documents-{os.getpid()}"),
    }
    conf.update(extra)
    return conf


def reset_schema(engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))


#: Above this many rows in a table, the clean-up truncates every table instead (quicker
#: then than a ``DELETE`` and ``VACUUM`` of the rows).
DELETE_AT_MOST = 5000


def truncate_all(engine) -> None:
    """Empty every table and restart its ids at 1 (as ``TRUNCATE … RESTART IDENTITY``).

    On PostgreSQL a ``TRUNCATE`` of all ~45 tables takes 0.3–1 s (new files for every
    table, index and sequence), more than most tests themselves; so one query finds the
    tables the test wrote, those are emptied by ``DELETE`` (foreign keys not checked: the
    tables are emptied together) and the sequences that were used are restarted (also
    the sequence of a table whose insert was rolled back). A ``VACUUM`` of those tables
    then gives their pages back, so that the next test's rows are stored in the order
    they are written, as in a truncated table, and their statistics are set as a
    ``TRUNCATE`` sets them (a query without ORDER BY sees rows in the same order as
    before: same storage, same plan). A test that wrote more than ``DELETE_AT_MOST`` rows into a table gets
    the full ``TRUNCATE``."""
    refcache.clear()  # the rows go behind the session's back: the filters' choices too
    tables = [t.name for t in _db.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name != "postgresql":
            for name in reversed(tables):
                conn.execute(sa.text(f"DELETE FROM {name}"))
            return
        superuser, *found = conn.execute(sa.text("SELECT current_setting('is_superuser') = 'on', " + ", ".join(
            f"(SELECT count(*) FROM (SELECT FROM {name} LIMIT {DELETE_AT_MOST + 1}) AS s),"
            f" pg_relation_size('{name}') > 0" for name in tables))).one()
        counts, used = found[0::2], found[1::2]
        if max(counts) > DELETE_AT_MOST or not superuser:
            conn.execute(sa.text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
            return
        written = [name for name, n in zip(tables, counts, strict=True) if n]
        # also the tables that only hold rows rolled back (dead, but taking pages)
        stored = [name for name, pages in zip(tables, used, strict=True) if pages]
        if written:
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))  # no foreign-key triggers
            conn.execute(sa.text("; ".join(f"DELETE FROM {name}" for name in written)))
        conn.execute(sa.text(
            "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false) FROM pg_sequences"
            " WHERE sequencename = ANY(:owned) AND last_value IS NOT NULL"), {"owned": _owned_sequences(conn, tables)})
    if stored:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM (SKIP_LOCKED) " + ", ".join(stored)))
            # The planner's statistics as a TRUNCATE leaves them (size unknown, not "empty"),
            # so that the next test's queries are planned, and their rows come, as before.
            conn.execute(sa.text(
                "WITH t AS (SELECT CAST(name AS regclass) AS oid FROM unnest(CAST(:tables AS text[])) AS name)"
                " UPDATE pg_class SET relpages = 0, reltuples = -1, relallvisible = 0"
                " WHERE oid IN (SELECT oid FROM t) OR oid IN (SELECT indexrelid FROM pg_index"
                " WHERE indrelid IN (SELECT oid FROM t))"), {"tables": stored})


_OWNED: dict[str, list[str]] = {}


def _owned_sequences(conn, tables: list[str]) -> list[str]:
    """The sequences of the tables' id columns (what ``RESTART IDENTITY`` restarts)."""
    key = str(conn.engine.url)
    if key not in _OWNED:
        _OWNED[key] = list(conn.execute(sa.text(
            "SELECT s.relname FROM pg_class s"
            " JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass"
            " AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')"
            " JOIN pg_class t ON t.oid = d.refobjid"
            " WHERE s.relkind = 'S' AND t.relname = ANY(:tables)"), {"tables": tables}).scalars())
    return _OWNED[key]


@pytest.fixture(scope="session")
def services_ready():
    """Fail the whole session (not skip) when PostgreSQL or Redis does not answer.

    Each session works in a database of its own (created on the server that
    TEST_DATABASE_URL names, dropped at the end), so two runs never meet.
    """
    base = sa.engine.make_url(_database_url())
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"{base.database}_{os.getpid()}"
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            # A commit need not wait for its WAL to reach the disk: a test database is not
            # kept across a crash, and what other connections see is the same.
            conn.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    except Exception as exc:  # pragma: no cover - environment
        pytest.exit(f"PostgreSQL at {_database_url()} does not answer ({exc}); run ./scripts/test.sh", 2)
    try:
        redis_lib.Redis.from_url(_redis_url()).ping()
    except Exception as exc:  # pragma: no cover - environment
        pytest.exit(f"Redis at {_redis_url()} does not answer ({exc}); run ./scripts/test.sh", 2)
    os.environ["PROCURE_SESSION_DATABASE_URL"] = base.set(database=name).render_as_string(hide_password=False)
    yield True
    engine.dispose()
    _drop_database_later(base, name)


def _drop_database_later(base: sa.engine.URL, name: str) -> None:
    """Drop this session's database in a process of its own that the session does not
    wait for: PostgreSQL writes a checkpoint for a ``DROP DATABASE``, which takes
    seconds on a quiet machine and tens of seconds on a busy one."""
    code = ("import sys, psycopg\n"
            "with psycopg.connect(sys.argv[1], autocommit=True) as conn:\n"
            "    conn.execute('DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)' % sys.argv[2])\n")
    url = base.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.Popen([sys.executable, "-c", code, url, name], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def app(services_ready):
    app = create_app("testing", **app_config())
    with app.app_context():
        _db.session.remove()
        reset_schema(_db.engine)
        upgrade()
    return app


@pytest.fixture()
def db(app):
    """A clean database for the test, inside an app context."""
    with app.app_context():
        yield _db
        _db.session.remove()
        truncate_all(_db.engine)


# --- the demo, loaded once per session ------------------------------------------------

#: Where the rows of the session's one demo load are kept (in the session database).
DEMO_SCHEMA = "demo_snapshot"


@dataclass
class DemoSnapshot:
    """What ``flask demo`` did once in this session: its exit code and output, the
    folder of the documents (PDFs) it stored, and the rows it wrote (tables of
    :data:`DEMO_SCHEMA`) with the sequences' values."""

    exit_code: int
    output: str
    documents_dir: str
    tables: list[str]
    sequences: dict[str, int]


@pytest.fixture(scope="session")
def demo_snapshot(app, tmp_path_factory) -> DemoSnapshot:
    """``flask demo`` run once for the session, as a test of its own would run it (every
    PDF rendered, every email sent by the eager tasks), its rows then copied aside.

    A demo load takes several seconds; tests that need the demo in a clean database
    (``demo_loaded``, or :func:`restore_demo` for a module) get these rows copied back
    in a fraction of a second. Tests of the loading itself (a second run, the order
    of the modules' loaders) still run ``flask demo`` themselves."""
    documents = str(tmp_path_factory.mktemp("demo-documents"))
    with app.app_context():
        _db.session.remove()
        truncate_all(_db.engine)
        kept = app.config["DOCUMENTS_DIR"]
        app.config["DOCUMENTS_DIR"] = documents
        try:
            result = app.test_cli_runner().invoke(args=["demo"])
        finally:
            app.config["DOCUMENTS_DIR"] = kept
        assert result.exit_code == 0, result.output
        _db.session.remove()
        with _db.engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {DEMO_SCHEMA} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {DEMO_SCHEMA}"))
            tables = []
            for table in _db.metadata.sorted_tables:
                if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
                    conn.execute(sa.text(f"CREATE TABLE {DEMO_SCHEMA}.{table.name} AS TABLE public.{table.name}"))
                    tables.append(table.name)
            sequences = dict(conn.execute(sa.text(
                "SELECT sequencename, last_value FROM pg_sequences"
                " WHERE schemaname = 'public' AND last_value IS NOT NULL")).all())
        truncate_all(_db.engine)
    return DemoSnapshot(result.exit_code, result.output, documents, tables, sequences)


def restore_demo(engine, snapshot: DemoSnapshot) -> None:
    """Copy the session's demo rows into the (empty) tables, the sequences set past them."""
    refcache.clear()
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))  # rows of all tables at once
        conn.execute(sa.text("; ".join(f"INSERT INTO public.{name} SELECT * FROM {DEMO_SCHEMA}.{name}"
                                       for name in snapshot.tables)))
        for name, value in snapshot.sequences.items():
            conn.execute(sa.text("SELECT setval(format('public.%I', CAST(:name AS text)), :value)"),
                         {"name": name, "value": value})


@pytest.fixture()
def demo_loaded(app, db, demo_snapshot, monkeypatch) -> DemoSnapshot:
    """The demo in this test's clean database (emptied afterwards like any test's rows),
    its stored documents readable."""
    monkeypatch.setitem(app.config, "DOCUMENTS_DIR", demo_snapshot.documents_dir)
    db.session.remove()
    restore_demo(db.engine, demo_snapshot)
    return demo_snapshot


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context: its own app context, ``g`` and database
    session, as in production (the test's own app context is not reused)."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture()
def client(app, db):
    from procure.extensions import limiter

    limiter.reset()  # login throttling counts per test
    app.test_client_class = IsolatedClient
    db.session.commit()
    return app.test_client()


@pytest.fixture()
def make(db) -> Factory:
    return Factory(db)


def login(client, username: str, password: str = Factory.PASSWORD, follow: bool = False):
    return client.post("/login", data={"username": username, "password": password}, follow_redirects=follow)


ANON = "anon"


def get_as(client, users: dict, role, path: str, allowed):
    """GET ``path`` as ``users[role]`` (or anonymously for ANON) and check the answer:
    anonymous → sent to sign in; a role in ``allowed`` → 200; any other → 403."""
    if role != ANON:
        assert login(client, users[role].username).status_code == 302
    resp = client.get(path)
    if role == ANON:
        assert resp.status_code == 302 and "/login" in resp.location
    elif role in allowed:
        assert resp.status_code == 200, resp.data[:300]
    else:
        assert resp.status_code == 403
    return resp
