"""Benchmark: outbox emails delivered by a real Celery worker against a plain smtplib loop.

One aiosmtpd sink on a free loopback port (it counts messages and connections, nothing
else). The floor: one ``smtplib.SMTP`` connection sending N messages of the same size in a
loop. Then N queued outbox rows (one commit) on PostgreSQL, their ids handed to Redis as
the reminder scan and the sweep hand them (``services.send_now``: one
``workers.mail.send_batch`` task per 100 ids), delivered by ``celery -A workers.celery_app
worker -P prefork -c 2`` (started before the clock, as production runs it); the clock runs
from the first task published to the last row marked sent. Prints messages/s for both and
the ratio. ``BENCH_MAIL_PATH=single`` hands each id to its own ``send_notification`` task
instead (the one-off path: a password reset, a workflow event).

``BENCH_SINK=keep`` makes the sink parse and keep every message (as the tests' ``Inbox``
and a real server do some work per message); the default only counts them, the
hardest floor.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_mail \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/12 python bench/bench_mail.py [N]
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

KEEP = os.environ.get("BENCH_SINK", "count") == "keep"
SINGLE = os.environ.get("BENCH_MAIL_PATH", "batch") == "single"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402


class CountingSink:
    """Accepts everything; counts messages and SMTP sessions (connections)."""

    def __init__(self):
        self.messages = 0
        self.connections = 0
        self.kept: list = []
        self.quits = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_QUIT(self, server, session, envelope):
        self.quits += 1
        return "221 Bye"

    async def handle_DATA(self, server, session, envelope):
        if KEEP:
            self.kept.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.messages += 1
        return "250 OK"


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise SystemExit(f"not done within {timeout} s")


def make_database(url: sa.engine.URL) -> None:
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()


def floor(port: int, n: int, payload: bytes) -> float:
    """messages/s of a plain smtplib loop over one connection."""
    t0 = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(n):
            smtp.sendmail("noreply@example.org", [f"u{i}@bench.local"], payload)
    return n / (time.perf_counter() - t0)


def main(n: int = 2000) -> None:
    url = sa.engine.make_url(os.environ.get("BENCH_DATABASE_URL",
                                            "postgresql+psycopg://postgres@127.0.0.1:5432/bench_mail"))
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
    db_url = url.render_as_string(hide_password=False)
    make_database(url)
    from flask_mail import Message
    from flask_migrate import upgrade

    from procure import create_app
    from procure.extensions import db
    from procure.notifications.models import Notification, NotificationState
    from procure.notifications.services import SEND_TASK, send_now

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=db_url, REDIS_URL=redis_url, MAIL_SUPPRESS_SEND=True)
    with app.app_context():
        upgrade()
    celery = app.extensions["celery"]
    celery.conf.task_always_eager = False
    celery.control.purge()

    subject, text = "年度报告提醒 Annual report reminder", "请在截止日前提交年度报告。\n" * 20
    html = f"<p>{text}</p>"
    with app.app_context():
        sample = Message(subject=subject, recipients=["u0@bench.local"], body=text, html=html,
                         sender="noreply@example.org").as_bytes()

    port = free_port()
    sink = CountingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    worker = None
    quits_before = 0
    log = Path(tempfile.mkdtemp(prefix="bench-mail-")) / "worker.log"
    try:
        floor(port, 50, sample)  # warm-up
        floor_rate = floor(port, n, sample)
        quits_before = sink.quits

        env = dict(os.environ, PROCURE_CONFIG="development", DATABASE_URL=db_url, REDIS_URL=redis_url,
                   MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port), BASE_URL="http://bench.local",
                   PROCURE_INSTANCE=str(log.parent / "instance"), PYTHONUNBUFFERED="1")
        with open(log, "wb") as out:
            worker = subprocess.Popen(
                [str(Path(sys.executable).parent / "celery"), "-A", "workers.celery_app", "worker",
                 "-P", "prefork", "-c", "2", "--loglevel=WARNING", "-n", f"bench{os.getpid()}@%h",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        ping = lambda: worker.poll() is not None or bool(celery.control.ping(timeout=0.5))  # noqa: E731
        wait_for(ping, timeout=60, interval=0.2)
        assert worker.poll() is None, log.read_text(errors="replace")

        with app.app_context():
            db.session.execute(sa.insert(Notification), [
                {"rule": "bench.mail", "to_email": f"u{i}@bench.local", "locale": "zh_CN", "subject": subject,
                 "body_text": text, "body_html": html, "state": NotificationState.QUEUED,
                 "dedupe_key": f"bench:{i}"} for i in range(n)])
            db.session.commit()
            ids = db.session.scalars(sa.select(Notification.id).order_by(Notification.id)).all()
            sent_before, connections_before = sink.messages, sink.connections
            t0 = time.perf_counter()
            if SINGLE:
                for note_id in ids:
                    celery.send_task(SEND_TASK, args=[note_id])
            else:
                assert send_now(ids) == n
            wait_for(lambda: sink.messages - sent_before >= n, timeout=600)

            def all_sent():
                return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
                    Notification.state == NotificationState.SENT)) == n

            def committed():
                done = all_sent()
                db.session.rollback()
                return done

            wait_for(committed, timeout=60)
            worker_rate = n / (time.perf_counter() - t0)
            time.sleep(1.0)  # would a second copy arrive?
            delivered = sink.messages - sent_before
            connections = sink.connections - connections_before
        print(f"N={n}, sink={'keep' if KEEP else 'count'}, path={'single' if SINGLE else 'batch'}:")
        print(f"smtplib floor {floor_rate:7.0f} msg/s; worker (prefork -c 2) {worker_rate:7.0f} msg/s; "
              f"ratio {worker_rate / floor_rate:.2f}x; delivered {delivered} over {connections} SMTP connections")
        assert delivered == n, "each email exactly once"
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
        time.sleep(0.5)
        print(f"QUIT said on {sink.quits - quits_before} of the worker's connections at its shutdown")
        controller.stop()
        app.extensions["celery"].control.purge()


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
