"""Celery beat for real: its scheduler publishes the reminder scan to Redis every
second, a real worker runs it, and however many ticks arrive each reminder is
emailed once."""

from __future__ import annotations

import time
from datetime import date

import pytest
from celery.beat import EmbeddedService

from procure.roles import Role

from .conftest import live_app, running_worker, smtp_server, wait_for

pytestmark = pytest.mark.integration

ON = "2026-05-24"  # 7 days before the 2025 annual reports are due (2026-05-31)


def test_beat_ticks_yield_one_email_per_reminder(db, make, mail_port, tmp_path):
    late = make.organization("节拍测试协会", with_code=True, registration_date=date(2020, 1, 1))
    user = make.user(Role.ORG, organization=late, locale="zh_CN")
    make.commit()
    live = live_app(mail_port)
    celery = live.extensions["celery"]
    celery.conf.beat_schedule = {
        "reminder-scan-test": {"task": "workers.reminders.scan", "schedule": 1.0, "args": (ON,)},
    }
    beat = EmbeddedService(celery, thread=True, schedule_filename=str(tmp_path / "beat-schedule"),
                           max_interval=0.5)
    with smtp_server(mail_port) as inbox, running_worker(live):
        beat.start()
        try:
            wait_for(lambda: inbox.messages, timeout=20)
            time.sleep(3.5)  # at least three more ticks
        finally:
            beat.stop()
    assert [m["To"] for m in inbox.messages] == [user.email]
    assert inbox.messages[0]["Subject"] == "年度报告即将到期"
