"""The embedded default (SQLite) under a long write: the progress poll and other users'
pages keep answering, a second writer waits instead of failing, and a progress tick
from inside the long transaction does not wait for its own lock."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from procure import create_app
from procure.extensions import db
from procure.jobs import services as jobs
from procure.jobs.models import Job, JobState

from .conftest import IsolatedClient, app_config, login
from .factories import Factory

pytestmark = pytest.mark.sqlite

WAIT = 30  # seconds: only a bound for a broken test, never reached when it passes


@pytest.fixture()
def sqlite_app(tmp_path, services_ready):
    app = create_app("testing", **app_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'trial.sqlite'}",
                                             SQLITE_BUSY_TIMEOUT_MS=20_000))
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture()
def running_job(sqlite_app):
    """An admin and a running job of theirs (what the progress page polls)."""
    make = Factory(db)
    admin = make.admin()
    job = jobs.create_job(admin, "test_kind")
    job.state = JobState.RUNNING
    db.session.commit()
    return admin, job.id


def _hold_write_lock(engine, held: threading.Event, release: threading.Event, errors: list,
                     mode: str = "EXCLUSIVE", hold_for: float | None = None) -> None:
    """A long write transaction on a connection of its own: it writes, says so, and
    keeps the lock until ``release`` is set (or ``hold_for`` seconds have passed)."""
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        conn.isolation_level = None
        conn.execute(f"BEGIN {mode}")
        conn.execute("UPDATE jobs SET message = 'writing' WHERE id = (SELECT MIN(id) FROM jobs)")
        held.set()
        release.wait(hold_for if hold_for is not None else WAIT)
        conn.execute("COMMIT")
    except Exception as exc:  # pragma: no cover - reported by the test
        errors.append(exc)
        held.set()
    finally:
        raw.close()


def test_every_connection_has_wal_and_a_busy_timeout(sqlite_app):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 20_000


def test_poll_and_pages_answer_during_a_long_write(sqlite_app, running_job):
    """A writer holds the database's write lock in its strongest form (what a long
    import does while it commits or spills its cache) until the polls are done: with
    WAL the readers never wait for it; without, each poll fails "database is locked"."""
    admin, job_id = running_job
    client = sqlite_app.test_client()
    assert login(client, admin.username).status_code == 302
    held, release, errors = threading.Event(), threading.Event(), []
    writer = threading.Thread(target=_hold_write_lock, args=(db.engine, held, release, errors))
    writer.start()
    try:
        assert held.wait(WAIT) and not errors
        for _ in range(5):
            resp = client.get(f"/jobs/{job_id}")
            assert resp.status_code == 200, resp.data[:300]
            assert resp.get_json()["state"] == "running"
        assert client.get("/dashboard").status_code == 200
        # A progress tick from inside a long transaction (the task's own lock) is
        # skipped at once instead of waiting for the lock or failing the task.
        jobs.job_progress(job_id, 5, 10, "tick")
    finally:
        release.set()
        writer.join(WAIT)
    assert not errors
    db.session.remove()
    assert db.session.get(Job, job_id).message == "writing"  # the writer's commit, not the skipped tick


def test_a_second_writer_waits_for_the_first(sqlite_app, running_job):
    """Another user's change during a write of a second: it waits (busy timeout) and
    succeeds, instead of failing at once with "database is locked"."""
    admin, _job_id = running_job
    client = sqlite_app.test_client()
    assert login(client, admin.username).status_code == 302
    held, release, errors = threading.Event(), threading.Event(), []
    writer = threading.Thread(target=_hold_write_lock,
                              args=(db.engine, held, release, errors, "IMMEDIATE", 1.0))
    writer.start()
    try:
        assert held.wait(WAIT) and not errors
        resp = client.post("/admin/departments/new", data={"name": "锁测试部门", "code": "LOCK"})
        assert resp.status_code == 302, resp.data[:300]
    finally:
        release.set()
        writer.join(WAIT)
    assert not errors
    db.session.remove()
    assert db.session.scalar(sa.text("SELECT COUNT(*) FROM departments WHERE code = 'LOCK'")) == 1

