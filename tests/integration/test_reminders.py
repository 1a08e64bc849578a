"""Reminders end to end: a real Celery worker on Redis runs the scan (twice, and two
scans at once), the outbox sends through a real SMTP server on loopback."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
import sqlalchemy as sa

from procure.notifications.models import Notification
from procure.organizations import services as registry
from procure.reminders import engine
from procure.roles import Role

from .conftest import live_app, running_worker, smtp_server, wait_for
from .test_mail import _body

pytestmark = pytest.mark.integration

ON = "2026-05-24"  # 7 days before the 2025 annual report is due (2026-05-31)


def test_annual_report_due_in_7_days_one_email_each_right_person_and_link(db, make, mail_port, app):
    late = make.organization("未报年报协会", with_code=True, registration_date=date(2020, 1, 1))
    filed = make.organization("已报年报协会", with_code=True, registration_date=date(2020, 1, 1))
    zh = make.user(Role.ORG, organization=late, locale="zh_CN")
    en = make.user(Role.ORG, organization=late, locale="en")
    make.user(Role.ORG, organization=filed, locale="en")
    officer = make.user(Role.OFFICER)
    with app.test_request_context():
        registry.record_annual_report(officer, filed, 2025, date(2026, 4, 1))
    make.commit()
    live = live_app(mail_port)
    with smtp_server(mail_port) as inbox, running_worker(live):
        task = live.extensions["celery"].tasks["workers.reminders.scan"]
        task.delay(ON)
        task.delay(ON)  # a second beat tick
        wait_for(lambda: len(inbox.messages) >= 2, timeout=20)

        # two scans at once, in two threads with their own sessions
        def run():
            with live.app_context():
                from procure.extensions import db as _db

                engine.scan(date.fromisoformat(ON))
                _db.session.commit()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        time.sleep(2.0)  # would another copy arrive?
    assert sorted(m["To"] for m in inbox.messages) == sorted([zh.email, en.email])
    link = f"http://testserver.local/organizations/{late.id}"
    by_to = {m["To"]: m for m in inbox.messages}
    assert by_to[en.email]["Subject"] == "Annual report due soon"
    for msg in inbox.messages:
        text, html = _body(msg)
        assert link in text and link in html and "2026-05-31" in text
    en_text = _body(by_to[en.email])[0]
    assert "Hello" in en_text and "in 7 days" in en_text
    zh_text = _body(by_to[zh.email])[0]
    assert zh.name in zh_text
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Notification).where(Notification.rule == "annual_report.due")).all()
    # Each email rendered in its recipient's language (the Chinese wording of these new
    # strings arrives with the lead's catalog update; the locale is what we can check).
    assert {(n.to_email, n.locale) for n in rows} == {(zh.email, "zh_CN"), (en.email, "en")}
