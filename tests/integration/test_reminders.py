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
        assert link in text and link in html
    # Each email in its recipient's language, with the link to the organization.
    en_text, en_html = _body(by_to[en.email])
    assert f"Hello {en.name}," in en_text
    assert ("The annual report for 2025 of 未报年报协会 is due by May 31, 2026 (in 7 days). "
            "It has not been filed yet.") in en_text
    assert f"Open the organization: {link}" in en_text
    assert f'<a href="{link}">Open the organization</a>' in en_html
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en_text.replace(late.name, "").replace(en.name, ""))

    assert by_to[zh.email]["Subject"] == "年度报告即将到期"
    zh_text, zh_html = _body(by_to[zh.email])
    assert f"{zh.name}，您好：" in zh_text and f"{zh.name}，您好：" in zh_html
    assert "未报年报协会的2025年度报告须于2026年5月31日前报送（还有7天），目前尚未报送。" in zh_text
    assert f"查看该社会组织： {link}" in zh_text
    assert f'<a href="{link}">查看该社会组织</a>' in zh_html
    for english in ("Hello", "annual report", "Open the organization", "due by"):
        assert english not in zh_text and english not in zh_html
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Notification).where(Notification.rule == "annual_report.due")).all()
    assert {(n.to_email, n.locale) for n in rows} == {(zh.email, "zh_CN"), (en.email, "en")}
    assert {n.to_email: n.subject for n in rows} == {zh.email: "年度报告即将到期", en.email: "Annual report due soon"}
