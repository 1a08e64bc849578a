"""The running demo: a demo user resets a password end to end, the email arriving at a
real SMTP sink through a real worker (the demo addresses used to end in ``.local``,
which the forms' e-mail validator refuses)."""

from __future__ import annotations

import re

import pytest

from procure.demo import DEMO_PASSWORD, demo_email

from ..conftest import login, restore_demo
from .conftest import live_app, running_worker, smtp_server, wait_for

pytestmark = pytest.mark.integration


def _text(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return ""


def test_a_demo_user_resets_the_password_through_the_sink(db, mail_port, demo_snapshot):
    app = live_app(mail_port)
    with app.app_context():
        assert demo_snapshot.exit_code == 0, demo_snapshot.output
        restore_demo(db.engine, demo_snapshot)  # the session's one demo load, copied back
    address = demo_email("officer")
    with smtp_server(mail_port) as inbox, running_worker(app):
        client = app.test_client()
        assert client.post("/password/forgot", data={"email": address}).status_code == 302
        reset = wait_for(lambda: [m for m in inbox.messages
                                  if m["To"] == address and "/password/reset/" in _text(m)], timeout=30)
    link = re.search(r"https?://[^/\s]+(/password/reset/[\w\-.]+)", _text(reset[0])).group(1)
    assert client.get(link).status_code == 200
    assert client.post(link, data={"password": "fromthesink1", "confirm": "fromthesink1"}).status_code == 302
    assert login(client, "officer", DEMO_PASSWORD).status_code != 302
    assert login(client, "officer", "fromthesink1").status_code == 302
