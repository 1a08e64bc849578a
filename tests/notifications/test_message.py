"""The outbox's message bytes (``delivery.OutboxMessage``, built directly for speed) read
back as Flask-Mail's own message would: the same headers, decoded, and the same text
and HTML bodies, whatever the language and length."""

from __future__ import annotations

import email
import email.policy

import pytest
from flask_mail import Message

from procure.notifications.delivery import OutboxMessage


def _parse(raw: bytes):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = {p.get_content_type(): p.get_content() for p in msg.walk() if not p.is_multipart()}
    return msg, parts


@pytest.mark.parametrize(("subject", "sender"), [
    ("Annual report due soon", "Procure <noreply@example.org>"),
    ("年度报告即将到期：重庆市渝中区第1234号社会组织的2025年度报告须于2026-05-31前报送" * 2,
     ("采购管理系统", "noreply@example.org")),
])
def test_the_built_message_reads_back_as_flask_mails(app, subject, sender):
    body = "您好：\n.\n.一行以点开头\n" + "很长的一行" * 100 + "\nend\n"
    html = "<p>您好 &amp; <b>hello</b></p>\n" * 3
    kw = dict(subject=subject, recipients=["u1@example.org"], body=body, html=html, sender=sender,
              extra_headers={"X-Procure-Rule": "annual_report.due"}, date=1780000000.0)
    with app.app_context():
        ours, theirs = OutboxMessage(**kw), Message(**kw)
        ours.msgId = theirs.msgId = "<notification-7-abc@procure.local>"
        raw = ours.as_bytes()
        a, a_parts = _parse(raw)
        b, b_parts = _parse(theirs.as_bytes())
    assert raw.isascii() and all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")
    for header in ("Subject", "From", "To", "Date", "Message-ID", "X-Procure-Rule", "MIME-Version"):
        assert str(a[header]) == str(b[header]), header
    # Both in canonical form (CRLF line ends), as text bodies are sent.
    assert a_parts["text/plain"] == b_parts["text/plain"] == body.replace("\n", "\r\n")
    assert a_parts["text/html"] == b_parts["text/html"] == html.replace("\n", "\r\n")
