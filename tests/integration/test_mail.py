"""Emails through the outbox, a real Celery worker on Redis and a real SMTP server."""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa

from procure.notifications.models import Notification, NotificationState
from procure.roles import Role

from ..conftest import login
from .conftest import live_app, running_worker, smtp_server, wait_for

pytestmark = pytest.mark.integration


def _body(message) -> tuple[str, str]:
    text = html = ""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        elif part.get_content_type() == "text/html":
            html = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return text, html


def _note(db):
    db.session.expire_all()
    return db.session.scalar(sa.select(Notification))


def test_password_reset_sends_exactly_one_email_with_a_working_link(db, make, mail_port):
    user = make.user(Role.EVALUATOR, locale="zh_CN")
    make.commit()
    app = live_app(mail_port)
    with smtp_server(mail_port) as inbox, running_worker(app):
        client = app.test_client()
        resp = client.post("/password/forgot", data={"email": user.email})
        assert resp.status_code == 302
        wait_for(lambda: inbox.messages)
        time.sleep(1.0)  # would a second copy arrive?
        assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    assert msg["To"] == user.email
    assert msg["Subject"] == "重置您的 Procure 密码"
    assert msg["Message-ID"].startswith("<notification-")
    text, html = _body(msg)
    link = re.search(r"http://testserver\.local(/password/reset/[\w\-]+)", text).group(1)
    assert link in html
    note = _note(db)
    assert note.state == NotificationState.SENT and note.attempts == 1 and note.sent_at

    # The link works once.
    page = client.get(link)
    assert page.status_code == 200
    assert client.post(link, data={"password": "fromemail123", "confirm": "fromemail123"}).status_code == 302
    assert login(client, user.username, "fromemail123").status_code == 302
    assert client.get(link).status_code == 302  # used up: back to "forgot password"


def test_smtp_down_is_retried_and_delivered_once(db, make, mail_port):
    user = make.user(Role.EVALUATOR, locale="en")
    make.commit()
    app = live_app(mail_port)  # nothing listens on mail_port yet
    with running_worker(app):
        client = app.test_client()
        client.post("/password/forgot", data={"email": user.email})
        wait_for(lambda: (_note(db) or Notification(attempts=0)).attempts >= 2, timeout=20)
        failing = _note(db)
        assert failing.state == NotificationState.QUEUED
        assert "refused" in failing.last_error.lower() or "connect" in failing.last_error.lower()
        with smtp_server(mail_port) as inbox:
            wait_for(lambda: _note(db).state == NotificationState.SENT, timeout=20)
            time.sleep(1.5)
            assert len(inbox.messages) == 1
    sent = _note(db)
    assert sent.attempts >= 3 and sent.sent_at is not None
    assert inbox.messages[0]["Subject"] == "Reset your Procure password"


def test_a_duplicate_task_does_not_send_twice(db, make, mail_port):
    """Two tasks for the same row (a retry and a sweep, say) yield one email."""
    user = make.user(Role.EVALUATOR)
    make.commit()
    app = live_app(mail_port)
    with smtp_server(mail_port) as inbox, running_worker(app):
        client = app.test_client()
        client.post("/password/forgot", data={"email": user.email})
        wait_for(lambda: inbox.messages)
        note_id = _note(db).id
        task = app.extensions["celery"].tasks["workers.mail.send_notification"]
        for _ in range(3):
            task.delay(note_id)
        time.sleep(1.5)
        assert len(inbox.messages) == 1
