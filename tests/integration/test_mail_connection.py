"""One SMTP connection per worker process, kept across messages (procure.notifications.delivery.SMTPLink):
counted at a real SMTP sink; a connection the server dropped is opened again and the
message still delivered exactly once, its row and audit event written once."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import sqlalchemy as sa

from procure.audit import AuditEvent, verify_chain
from procure.auth.models import User
from procure.notifications import delivery
from procure.notifications.models import Notification, NotificationState
from procure.notifications.services import notify

from .conftest import Inbox, live_app, running_worker, wait_for

pytestmark = pytest.mark.integration


class CountingInbox(Inbox):
    """Keeps the messages and the SMTP sessions (one per connection) it served."""

    def __init__(self):
        super().__init__()
        self.sessions: list = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.sessions.append(server)
        return responses


@pytest.fixture()
def sink(mail_port):
    from aiosmtpd.controller import Controller

    inbox = CountingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=mail_port)
    controller.start()
    inbox.controller = controller
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture()
def live(mail_port):
    app = live_app(mail_port)
    yield app
    delivery.link.close()  # this test process's connection, whatever the test left


def _write(db, live, make, n: int, key: str) -> list[int]:
    user_ids = [u.id for u in make.users_bulk(n, prefix=key)]
    make.commit()
    with live.app_context():
        users = db.session.scalars(sa.select(User).where(User.id.in_(user_ids))).all()
        # Handed to Redis at the commit: consumed only by the test that starts a worker.
        written = notify(users, "welcome", rule="test.link", dedupe_key=key, context={"link": "http://x"})
        ids = [w.email.id for w in written]
        db.session.commit()
        db.session.remove()
    return ids


def _delivered(inbox) -> Counter:
    return Counter(int(re.match(r"<notification-(\d+)-", m["Message-ID"]).group(1)) for m in inbox.messages)


def _sent_once_and_audited(db, ids: list[int]) -> None:
    db.session.expire_all()
    notes = db.session.scalars(sa.select(Notification).where(Notification.id.in_(ids))).all()
    assert {n.state for n in notes} == {NotificationState.SENT}
    assert {n.attempts for n in notes} == {1}
    sent_events = Counter(
        int(ev.object_id) for ev in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.object_type == "notifications"))
        if (ev.after or {}).get("state") == "sent")
    assert sent_events == Counter(ids)
    assert verify_chain().ok


def test_one_connection_serves_several_messages(db, make, sink, live):
    ids = _write(db, live, make, 5, "reuse")
    with live.app_context():
        for note_id in ids:
            assert delivery.deliver(note_id) is None
    assert _delivered(sink) == Counter(ids)
    assert len(sink.sessions) == 1, "a new SMTP connection per message"
    _sent_once_and_audited(db, ids)


def test_a_dropped_connection_is_opened_again_and_the_message_sent_once(db, make, sink, live):
    ids = _write(db, live, make, 3, "drop")
    with live.app_context():
        assert delivery.deliver(ids[0]) is None
        assert len(sink.sessions) == 1
        # The server drops the connection (an idle timeout, a restart).
        server = sink.sessions[0]
        sink.controller.loop.call_soon_threadsafe(server.transport.close)
        wait_for(lambda: server.transport is None or server.transport.is_closing())
        assert delivery.deliver(ids[1]) is None
        assert delivery.deliver(ids[2]) is None
    assert _delivered(sink) == Counter(ids), "each email exactly once"
    assert len(sink.sessions) == 2, "one new connection after the drop, then kept"
    _sent_once_and_audited(db, ids)


def test_a_worker_sends_its_tasks_over_one_connection(db, make, sink, live):
    with running_worker(live):
        ids = _write(db, live, make, 6, "worker")  # handed to the worker at the commit
        wait_for(lambda: len(sink.messages) >= len(ids))
        wait_for(lambda: _all_sent(db, ids))
    assert _delivered(sink) == Counter(ids)
    assert len(sink.sessions) == 1, "the worker opened a connection per task"
    _sent_once_and_audited(db, ids)


def _all_sent(db, ids) -> bool:
    db.session.expire_all()
    states = set(db.session.scalars(sa.select(Notification.state).where(Notification.id.in_(ids))))
    db.session.rollback()
    return states == {NotificationState.SENT}
