"""Milestone reminders: due in 7, 3, 1 days → the organization; overdue → the
organization daily for 3 days, then the officer; a report waiting 5 working days for
review → the officer. Each once per object, rule, due date and recipient."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from procure.delivery import services as ds
from procure.delivery.models import ReportState, ReportSubmission
from procure.notifications.models import Notice
from procure.reminders import engine
from procure.roles import Role

from .conftest import report_in

DUE = date(2026, 5, 11)  # a Monday
RULES = ["milestone.due", "milestone.overdue", "milestone.overdue_escalated", "milestone_report.review"]


def _contract(make, db):
    aw = make.active_contract(due_dates=[DUE, date(2026, 9, 30)])
    make.user(Role.OFFICER)  # another department's officer: never told
    make.user(Role.ORG)  # another organization's staff: never told
    db.session.commit()
    return aw


def _told(db, rule):
    return sorted((n.user_id, n.due_date) for n in db.session.scalars(select(Notice).where(Notice.rule == rule)))


def _scan(day):
    counts = engine.scan(day, only=RULES)
    return {k: v for k, v in counts.items() if v}


def test_due_soon_once_each_to_the_organization(make, db):
    aw = _contract(make, db)
    assert _scan(DUE - timedelta(days=8)) == {}
    assert _scan(DUE - timedelta(days=7)) == {"milestone.due": 1}
    assert _scan(DUE - timedelta(days=7)) == {}  # once
    assert _scan(DUE - timedelta(days=5)) == {}  # not an offset
    assert _scan(DUE - timedelta(days=3)) == {"milestone.due": 1}
    assert _scan(DUE - timedelta(days=1)) == {"milestone.due": 1}
    assert _scan(DUE - timedelta(days=1)) == {}
    assert _told(db, "milestone.due") == [(aw.org_user.id, DUE)] * 3
    notice = db.session.scalar(select(Notice).where(Notice.rule == "milestone.due").limit(1))
    assert notice.link.endswith(f"/milestones/{aw.contract.milestones[0].id}/report")


def test_no_due_reminder_once_submitted(make, db):
    aw = _contract(make, db)
    report_in(db, aw, ReportState.SUBMITTED)
    assert _scan(DUE - timedelta(days=3)) == {}


def test_overdue_daily_for_three_days_then_the_officer(make, db):
    aw = _contract(make, db)
    assert "milestone.overdue" not in _scan(DUE)  # due today: not overdue (a missed "due" reminder is caught up)
    for n in (1, 2, 3):
        assert _scan(DUE + timedelta(days=n)) == {"milestone.overdue": 1}, n
        assert _scan(DUE + timedelta(days=n)) == {}  # two beats the same day: one
    assert _scan(DUE + timedelta(days=4)) == {"milestone.overdue_escalated": 1}
    assert _scan(DUE + timedelta(days=4)) == {}
    assert _scan(DUE + timedelta(days=5)) == {}
    assert _told(db, "milestone.overdue") == [(aw.org_user.id, DUE)] * 3
    assert _told(db, "milestone.overdue_escalated") == [(aw.officer.id, DUE)]


def test_overdue_stops_when_the_report_is_submitted(make, db):
    aw = _contract(make, db)
    assert _scan(DUE + timedelta(days=1)) == {"milestone.overdue": 1}
    report_in(db, aw, ReportState.SUBMITTED)
    assert _scan(DUE + timedelta(days=2)) == {}
    assert _scan(DUE + timedelta(days=4)) == {}


def test_review_waiting_five_working_days_to_the_officer(make, db):
    aw = _contract(make, db)
    report = report_in(db, aw, ReportState.SUBMITTED)
    # submitted on Monday 2026-05-11, 10:00 Beijing time
    db.session.execute(update(ReportSubmission).where(ReportSubmission.report_id == report.id)
                       .values(submitted_at=datetime(2026, 5, 11, 2, 0)))
    db.session.commit()
    only = ["milestone_report.review"]
    assert engine.scan(date(2026, 5, 15), only=only).get("milestone_report.review", 0) == 0
    assert engine.scan(date(2026, 5, 18), only=only) == {"milestone_report.review": 1}  # 5th working day after
    assert engine.scan(date(2026, 5, 19), only=only) == {"milestone_report.review": 0}  # catch-up: same key
    assert _told(db, "milestone_report.review") == [(aw.officer.id, date(2026, 5, 18))]
    # decided: no more reminders for it
    ds.approve_report(aw.officer, report)
    db.session.commit()
    db.session.execute(Notice.__table__.delete().where(Notice.rule == "milestone_report.review"))
    from procure.notifications.models import Notification

    db.session.execute(Notification.__table__.delete().where(Notification.rule == "milestone_report.review"))
    db.session.commit()
    assert engine.scan(date(2026, 5, 18), only=only).get("milestone_report.review", 0) == 0


def test_due_email_in_the_recipients_language_with_the_link(make, db):
    from procure.notifications.models import Notification

    aw = _contract(make, db)
    english = make.user(Role.ORG, organization=aw.org, locale="en")
    db.session.commit()
    assert _scan(DUE - timedelta(days=3)) == {"milestone.due": 2}
    mails = {m.recipient_id: m for m in db.session.scalars(select(Notification).where(
        Notification.rule == "milestone.due"))}
    link = f"/milestones/{aw.contract.milestones[0].id}/report"
    zh, en = mails[aw.org_user.id], mails[english.id]
    assert "3 天后到期" in zh.subject and link in zh.body_text and "2026年5月11日" in zh.body_text
    assert "Milestone due in 3 days" in en.subject and link in en.body_text
