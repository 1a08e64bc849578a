"""Batch delivery (``delivery.deliver_batch``, the task ``workers.mail.send_batch``): many
outbox rows over one SMTP connection, locked together, marked sent in one statement and
audited one event each; two workers claiming the same rows at once never send one twice;
a message the server refuses is retried (or failed) on its own, with its own backoff."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import sqlalchemy as sa

from procure.audit import AuditEvent, verify_chain
from procure.notifications import delivery
from procure.notifications.models import Notification, NotificationState

from ..threads import race
from .conftest import Inbox, live_app, running_worker, wait_for

pytestmark = pytest.mark.integration


class Sink(Inbox):
    """Keeps messages and sessions; refuses the recipients named in ``refuse``
    (address → (code, text))."""

    def __init__(self):
        super().__init__()
        self.sessions: list = []
        self.refuse: dict[str, tuple[int, str]] = {}

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.sessions.append(server)
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            code, text = self.refuse[address]
            return f"{code} {text}"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture()
def sink(mail_port):
    from aiosmtpd.controller import Controller

    inbox = Sink()
    controller = Controller(inbox, hostname="127.0.0.1", port=mail_port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture()
def live(mail_port):
    app = live_app(mail_port)
    yield app
    delivery.link.close()


def _rows(db, n: int, key: str) -> list[int]:
    notes = [Notification(dedupe_key=f"{key}:{i}", rule="test.batch", to_email=f"{key}{i}@example.org",
                          locale="zh_CN", subject=f"批量 {i}", body_text=f"正文 {i}\n", body_html=f"<p>{i}</p>")
             for i in range(n)]
    db.session.add_all(notes)
    db.session.commit()
    return [n.id for n in notes]


def _delivered(sink) -> Counter:
    return Counter(int(re.match(r"<notification-(\d+)-", m["Message-ID"]).group(1)) for m in sink.messages)


def _sent_once_and_audited(db, ids) -> None:
    db.session.expire_all()
    notes = db.session.scalars(sa.select(Notification).where(Notification.id.in_(ids))).all()
    assert {n.state for n in notes} == {NotificationState.SENT}
    assert {n.attempts for n in notes} == {1} and all(n.sent_at for n in notes)
    events = Counter(int(ev.object_id) for ev in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == "notifications",
                                    AuditEvent.action == "notification.send",
                                    AuditEvent.object_id.in_([str(i) for i in ids]))))
    assert events == Counter(ids)
    assert verify_chain().ok


def test_a_batch_goes_over_one_connection_one_update_each_audited(db, sink, live):
    ids = _rows(db, 30, "one")
    statements = []

    def count(conn, cursor, statement, params, context, many):
        statements.append(statement.lstrip().split()[0].upper())

    with live.app_context():
        from procure.extensions import db as live_db

        sa.event.listen(live_db.engine, "before_cursor_execute", count)
        try:
            assert delivery.deliver_batch(ids) == {}
        finally:
            sa.event.remove(live_db.engine, "before_cursor_execute", count)
        assert delivery.deliver_batch(ids) == {}  # again: all sent, nothing goes out
    assert _delivered(sink) == Counter(ids)
    assert len(sink.sessions) == 1
    # One lock of the batch, one UPDATE marking it sent; the audit chain's own statements.
    assert statements.count("UPDATE") == 1 and statements.count("SELECT") <= 3, statements
    _sent_once_and_audited(db, ids)


def _worker(part: list[int]):
    def send(_db):
        try:
            delivery.deliver_batch(part)
        finally:
            delivery.link.close()  # this thread's connection
    return send


def test_two_workers_claiming_the_same_rows_never_send_one_twice(db, sink, live):
    sink.delay = 0.01  # a server that takes its time: the two batches overlap
    for round_ in range(3):
        ids = _rows(db, 40, f"race{round_}")
        before = len(sink.messages)
        # Overlapping batches: the first and second halves, and all of them.
        ok, refused = race(live, [_worker(ids[:30]), _worker(ids[10:]), _worker(ids)])
        assert sorted(ok) == [0, 1, 2] and refused == []
        # A row skipped because another worker held it is sent by that worker.
        with live.app_context():
            delivery.deliver_batch(ids)
        delivery.link.close()
        got = Counter(int(re.match(r"<notification-(\d+)-", m["Message-ID"]).group(1))
                      for m in sink.messages[before:])
        assert got == Counter(ids), "each email exactly once"
        _sent_once_and_audited(db, ids)


def test_a_refused_message_is_retried_on_its_own_the_rest_sent(db, sink, live):
    ids = _rows(db, 6, "refuse")
    sink.refuse = {"refuse2@example.org": (451, "Try again later"), "refuse4@example.org": (550, "No such user")}
    with live.app_context():
        retry = delivery.deliver_batch(ids)
    assert retry == {0.5: [ids[2]]}  # the testing backoff's first step
    db.session.expire_all()
    notes = {n.id: n for n in db.session.scalars(sa.select(Notification).where(Notification.id.in_(ids)))}
    assert notes[ids[2]].state == NotificationState.QUEUED and notes[ids[2]].attempts == 1
    assert "451" in notes[ids[2]].last_error and notes[ids[2]].next_attempt_at is not None
    assert notes[ids[4]].state == NotificationState.FAILED and "550" in notes[ids[4]].last_error
    sent = [i for i in ids if i not in (ids[2], ids[4])]
    assert _delivered(sink) == Counter(sent)
    _sent_once_and_audited(db, sent)
    # The server accepts it now: the worker's retry of that one message sends it.
    sink.refuse = {}
    with running_worker(live):
        live.extensions["celery"].tasks["workers.mail.send_batch"].apply_async(([ids[2]],), countdown=0.5)
        wait_for(lambda: ids[2] in _delivered(sink), timeout=20)
    assert _delivered(sink) == Counter(sent + [ids[2]])


def test_server_down_counts_one_failed_attempt_each_without_trying_the_rest(db, live, mail_port):
    ids = _rows(db, 4, "down")  # nothing listens on mail_port
    with live.app_context():
        retry = delivery.deliver_batch(ids)
    assert retry == {0.5: ids}
    db.session.expire_all()
    notes = db.session.scalars(sa.select(Notification).where(Notification.id.in_(ids))).all()
    assert {(n.state, n.attempts) for n in notes} == {(NotificationState.QUEUED, 1)}
    assert sum("not tried" in n.last_error for n in notes) == 3
