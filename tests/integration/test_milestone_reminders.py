"""Milestone reminders end to end: two Celery beats at once publish the reminder scan to
Redis, a real worker runs it and the outbox sends through a real SMTP server — a
milestone due in 3 days is emailed once to each of the organization's staff, in their
language, with the link to its report; after three overdue days the officer is told."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from celery.beat import EmbeddedService

from procure.roles import Role

from .conftest import live_app, running_worker, smtp_server, wait_for
from .test_mail import _body

pytestmark = pytest.mark.integration

ON = date(2026, 6, 1)
DUE = ON + timedelta(days=3)
ESCALATED_ON = DUE + timedelta(days=4)  # after three daily overdue reminders to the organization


def _beat(celery, path) -> EmbeddedService:
    return EmbeddedService(celery, thread=True, schedule_filename=str(path), max_interval=0.5)


def test_milestone_due_in_3_days_then_escalated(db, make, mail_port, tmp_path):
    aw = make.active_contract(due_dates=[DUE, date(2026, 9, 30)])
    zh = aw.org_user
    en = make.user(Role.ORG, organization=aw.org, locale="en")
    make.commit()
    milestone = aw.contract.milestones[0]
    live = live_app(mail_port)
    celery = live.extensions["celery"]
    celery.conf.beat_schedule = {"milestones": {"task": "workers.reminders.scan", "schedule": 1.0,
                                                "args": (ON.isoformat(),)}}
    beats = [_beat(celery, tmp_path / f"beat-{n}") for n in (1, 2)]
    with smtp_server(mail_port) as inbox, running_worker(live):
        for b in beats:  # two beats at once (a second scheduler started by mistake)
            b.start()
        try:
            wait_for(lambda: len(inbox.messages) >= 2, timeout=20)
            time.sleep(2.5)  # more ticks of both: would another copy arrive?
        finally:
            for b in beats:
                b.stop()
        assert sorted(m["To"] for m in inbox.messages) == sorted([zh.email, en.email])
        link = f"http://testserver.local/milestones/{milestone.id}/report"
        by_to = {m["To"]: m for m in inbox.messages}
        en_text, en_html = _body(by_to[en.email])
        assert by_to[en.email]["Subject"] == "Milestone due in 3 days: 第1阶段服务"
        assert (f"The milestone “第1阶段服务” of contract {aw.contract.number} is due on June 4, 2026, in 3 days."
                in en_text)
        assert link in en_text and f'href="{link}"' in en_html
        zh_text, zh_html = _body(by_to[zh.email])
        assert "2026年6月4日" in zh_text and link in zh_text and f'href="{link}"' in zh_html
        for english in ("Milestone", "due", "Open the report"):
            assert english not in by_to[zh.email]["Subject"] and english not in zh_text

        # overdue: the organization is reminded daily for three days, then the officer
        scan = celery.tasks["workers.reminders.scan"]
        inbox.messages.clear()
        for n in (1, 2, 3):
            scan.delay((DUE + timedelta(days=n)).isoformat())
        wait_for(lambda: len(inbox.messages) >= 6, timeout=20)
        assert sorted(m["To"] for m in inbox.messages) == sorted([zh.email, en.email] * 3)
        inbox.messages.clear()
        scan.delay(ESCALATED_ON.isoformat())
        wait_for(lambda: inbox.messages, timeout=20)
        time.sleep(0.5)
    assert [m["To"] for m in inbox.messages] == [aw.officer.email], [(m["To"], m["Subject"]) for m in inbox.messages]
    text, _html = _body(inbox.messages[0])
    assert aw.org.name in text and "4" in inbox.messages[0]["Subject"]
    assert f"http://testserver.local/contracts/{aw.contract.id}/milestones" in text
