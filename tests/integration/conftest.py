"""Real parts: a Celery worker consuming from Redis and an SMTP server on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker

from procure import create_app

from ..conftest import TEST_MASTER_KEY, IsolatedClient, _redis_url, app_config, free_port, session_database_url


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts (after ``delay`` seconds
    each, to stand for a slow server)."""

    def __init__(self):
        self.messages: list = []
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope):
        import asyncio
        import email
        import email.policy

        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@contextmanager
def smtp_server(port: int):
    inbox = Inbox()
    # Controller(port=0) fails its own readiness check; and its default host is ::1.
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def live_app(mail_port: int):
    """An app whose tasks go through Redis (not eager) and whose mail goes to ``mail_port``."""
    redis_url = _redis_url()
    app = create_app("testing", **app_config(
        MAIL_SUPPRESS_SEND=False, MAIL_PORT=mail_port, MAIL_SERVER="127.0.0.1",
        CELERY={"broker_url": redis_url, "result_backend": redis_url, "task_ignore_result": True,
                "broker_connection_retry_on_startup": True, "task_acks_late": True,
                "worker_prefetch_multiplier": 1}))
    app.test_client_class = IsolatedClient
    return app


@contextmanager
def running_worker(app):
    celery = app.extensions["celery"]
    celery.control.purge()  # nothing left over from an earlier run
    with start_worker(celery, pool="solo", concurrency=1, perform_ping_check=False,
                      loglevel="WARNING", shutdown_timeout=10):
        yield


@pytest.fixture()
def mail_port():
    return free_port()


# --- a real worker process: prefork pool, started as production starts it ------------

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """``celery -A <app> worker -P prefork -c 2`` in a process of its own, on this
    session's database and Redis, its mail going to ``mail_port``. ``restart()``
    terminates it (SIGTERM: the warm shutdown production sees) and starts another."""

    def __init__(self, mail_port: int, log_dir: Path, app_module: str = "tests.integration.probe_worker",
                 concurrency: int = 2):
        self.mail_port, self.log_dir, self.app_module, self.concurrency = mail_port, log_dir, app_module, concurrency
        self.proc: subprocess.Popen | None = None
        self.logs: list[Path] = []

    def env(self) -> dict:
        return dict(os.environ, PROCURE_CONFIG="development", DATABASE_URL=session_database_url(),
                    REDIS_URL=_redis_url(), MAIL_SERVER="127.0.0.1", MAIL_PORT=str(self.mail_port),
                    BASE_URL="http://testserver.local", PROCURE_INSTANCE=str(self.log_dir / "instance"),
                    MAIL_RETRY_BASE_SECONDS="0.5", PYTHONUNBUFFERED="1",
                    PROCURE_MASTER_KEY=TEST_MASTER_KEY)  # the tests' key: a worker opens what they sealed

    def start(self, timeout: float = 60.0) -> None:
        log = self.log_dir / f"worker-{len(self.logs) + 1}.log"
        self.logs.append(log)
        celery_bin = Path(sys.executable).parent / "celery"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [str(celery_bin), "-A", self.app_module, "worker", "-P", "prefork", "-c", str(self.concurrency),
                 "--loglevel=INFO", "-n", f"it{os.getpid()}-{len(self.logs)}@%h",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=ROOT, env=self.env(), stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: self.proc.poll() is not None or " ready." in log.read_text(errors="replace"),
                 timeout=timeout, interval=0.2)
        assert self.proc.poll() is None, log.read_text(errors="replace")

    def stop(self, timeout: float = 60.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:  # pragma: no cover - a stuck worker
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs)

    def children(self) -> set[int]:
        """The pool processes' pids."""
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return {int(p) for p in path.read_text().split()}


def pg_backends_of(os_pid: int, engine) -> set[int]:
    """The PostgreSQL backend pids serving the TCP connections that process ``os_pid``
    holds open (read from /proc and pg_stat_activity)."""
    inodes = set()
    fd_dir = Path(f"/proc/{os_pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{os_pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == 5432:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    if not ports:
        return set()
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE client_port = ANY(:ports)"),
                            {"ports": sorted(ports)}).scalars()
        return set(rows)
