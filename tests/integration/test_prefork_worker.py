"""A real Celery worker as production runs it (``celery -A … worker``, prefork pool,
concurrency 2, its schema check before the fork) on PostgreSQL, and a real SMTP sink.

- 200 emails written in one transaction all arrive within seconds of the commit, each
  once, none handed to Celery before its row was committed (fault 7); also when the
  worker is terminated and started again in the middle.
- The two pool processes never share a PostgreSQL connection (fault 6), and every
  notification marked sent has its audit event, in a whole chain.

One worker and one sink serve the whole module.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter

import pytest
import redis
import sqlalchemy as sa

from procure import dispatch
from procure.audit import AuditEvent, verify_chain
from procure.auth.models import User
from procure.notifications.models import Notification, NotificationState
from procure.notifications.services import SEND_TASK, notify

from ..conftest import _redis_url, free_port, session_database_url
from .conftest import WorkerProcess, live_app, pg_backends_of, smtp_server, wait_for

#: The probe task of tests/integration/probe_worker.py (not imported here: importing the
#: worker's app checks the schema of the database the environment names).
PROBE_TASK = "tests.integration.backend_pid"

pytestmark = pytest.mark.integration

EMAILS = 200
#: Far below the sweep's 60 s, generous for a loaded machine.
WITHIN_SECONDS = 20


@pytest.fixture(scope="module")
def rig(app, tmp_path_factory):
    """(inbox, worker, live app) for the module: the worker starts on the migrated
    session database, as production starts it."""
    port = free_port()
    live = live_app(port)
    live.extensions["celery"].control.purge()
    with smtp_server(port) as inbox:
        worker = WorkerProcess(port, tmp_path_factory.mktemp("worker"))
        worker.start()
        try:
            yield inbox, worker, live
        finally:
            worker.stop()


@pytest.fixture()
def probe_engine(services_ready):
    engine = sa.create_engine(session_database_url())
    yield engine
    engine.dispose()


@pytest.fixture()
def early_sends(monkeypatch, probe_engine):
    """Wraps the one place tasks are handed to Celery: records every outbox id handed
    over while its row was not yet visible to another connection (not committed)."""
    early: list[int] = []
    original = dispatch.send

    def checked(name, *args):
        if name == SEND_TASK:
            with probe_engine.connect() as conn:
                if not conn.execute(sa.text("SELECT 1 FROM notifications WHERE id = :id"), {"id": args[0]}).first():
                    early.append(args[0])
        return original(name, *args)

    monkeypatch.setattr(dispatch, "send", checked)
    return early


def _write_emails(db, live, make) -> tuple[list[int], float]:
    """EMAILS outbox rows in ONE transaction; returns their ids and the commit time."""
    user_ids = [u.id for u in make.users_bulk(EMAILS)]
    make.commit()
    with live.app_context():
        users = db.session.scalars(sa.select(User).where(User.id.in_(user_ids))).all()
        written = notify(users, "welcome", rule="test.bulk", dedupe_key="bulk", context={"link": "http://x"})
        ids = [w.email.id for w in written]
        assert len(ids) == EMAILS
        db.session.commit()
        committed = time.monotonic()
        db.session.remove()
    return ids, committed


def _delivered(inbox) -> Counter:
    return Counter(int(re.match(r"<notification-(\d+)-", m["Message-ID"]).group(1)) for m in inbox.messages)


def _check_rows_and_audit(db, ids: list[int]) -> None:
    db.session.expire_all()
    notes = db.session.scalars(sa.select(Notification).where(Notification.id.in_(ids))).all()
    assert {n.state for n in notes} == {NotificationState.SENT}
    assert {n.attempts for n in notes} == {1}
    sent_events = Counter(
        int(ev.object_id) for ev in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.object_type == "notifications"))
        if (ev.after or {}).get("state") == "sent")
    assert sent_events == Counter(ids), "a notification marked sent without its audit event"
    assert verify_chain().ok


def test_200_emails_of_one_transaction_arrive_within_seconds_each_once(db, make, rig, early_sends):
    inbox, worker, live = rig
    inbox.messages.clear()
    inbox.delay = 0.0
    ids, committed = _write_emails(db, live, make)
    wait_for(lambda: len(inbox.messages) >= EMAILS, timeout=WITHIN_SECONDS)
    took = time.monotonic() - committed
    time.sleep(1.0)  # would a second copy arrive?
    assert _delivered(inbox) == Counter(ids), "each email exactly once"
    assert early_sends == [], "handed to Celery before its row was committed"
    assert "not found" not in worker.log_text()
    _check_rows_and_audit(db, ids)
    print(f"{EMAILS} emails delivered {took:.1f} s after the commit")


def test_a_worker_restarted_in_the_middle_still_delivers_each_once(db, make, rig, early_sends):
    inbox, worker, live = rig
    inbox.messages.clear()
    inbox.delay = 0.02  # a slow server, so the restart falls in the middle
    try:
        ids, _committed = _write_emails(db, live, make)
        wait_for(lambda: len(inbox.messages) >= 20, timeout=WITHIN_SECONDS)
        worker.restart()  # SIGTERM: the tasks running finish, the reserved ones go back
        assert len(inbox.messages) < EMAILS, "the restart did not fall in the middle"
        restarted = time.monotonic()
        wait_for(lambda: len(inbox.messages) >= EMAILS, timeout=WITHIN_SECONDS + EMAILS * inbox.delay)
        took = time.monotonic() - restarted
        time.sleep(1.0)
    finally:
        inbox.delay = 0.0
    assert _delivered(inbox) == Counter(ids), "each email exactly once"
    assert early_sends == []
    assert "not found" not in worker.log_text()
    _check_rows_and_audit(db, ids)
    print(f"after the restart the rest arrived in {took:.1f} s")


def test_pool_processes_never_share_a_database_connection(db, rig, probe_engine):
    _inbox, worker, live = rig
    key = f"probe:{uuid.uuid4().hex}"
    r = redis.Redis.from_url(_redis_url())
    try:
        for _ in range(6):
            live.extensions["celery"].send_task(PROBE_TASK, args=[key, 2])
        wait_for(lambda: r.llen(key) >= 6, timeout=40, interval=0.2)
        reports = [json.loads(x) for x in r.lrange(key, 0, -1)]
    finally:
        r.delete(key, key + ":pids")
    errors = [rep["error"] for rep in reports if "error" in rep]
    assert errors == [], f"database errors in the pool processes: {errors}"
    backends: dict[int, set[int]] = {}
    for rep in reports:
        backends.setdefault(rep["pid"], set()).update({rep["backend"], rep["again"]})
    assert len(backends) == 2, f"both pool processes ran probes: {backends}"
    assert set(backends) <= worker.children()
    first, second = backends.values()
    assert first.isdisjoint(second), f"two processes on one PostgreSQL backend: {backends}"
    main = pg_backends_of(worker.proc.pid, probe_engine)
    assert main.isdisjoint(first | second), "a pool process uses the main process's connection"
