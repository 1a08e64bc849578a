"""The reminder engine: each rule on its days, dedupe, config, mutes; the notices page."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from procure.notifications.models import Notice, Notification
from procure.organizations import services as registry
from procure.organizations.models import CreditList
from procure.reminders import engine
from procure.roles import Role

from ..conftest import login

DUE = date(2026, 5, 31)  # the 2025 annual report


@pytest.fixture()
def world(app, make, db):
    late = make.organization("未报组织", with_code=True, registration_date=date(2020, 1, 1))
    filed = make.organization("已报组织", with_code=True, registration_date=date(2020, 1, 1))
    zh = make.user(Role.ORG, organization=late, locale="zh_CN")
    en = make.user(Role.ORG, organization=late, locale="en")
    filed_user = make.user(Role.ORG, organization=filed)
    officer = make.user(Role.OFFICER, locale="en")
    with app.test_request_context():
        registry.record_annual_report(officer, filed, 2025, date(2026, 3, 1))
    make.commit()
    return {"late": late, "filed": filed, "zh": zh, "en": en, "filed_user": filed_user, "officer": officer}


def scan(app, day, **kw):
    from procure.extensions import db

    with app.test_request_context():
        counts = engine.scan(day, **kw)
        db.session.commit()
    return counts


def emails(db):
    db.session.expire_all()
    return db.session.scalars(sa.select(Notification).where(Notification.rule != "welcome")
                              .order_by(Notification.id)).all()


@pytest.mark.parametrize(("day", "sent"), [
    (date(2026, 5, 1), True), (date(2026, 5, 24), True), (date(2026, 5, 30), True),
    (date(2026, 5, 2), False), (date(2026, 5, 23), False), (date(2026, 5, 31), False)])
def test_annual_report_due_days(app, db, world, day, sent, monkeypatch):
    monkeypatch.setitem(app.config, "REMINDER_CATCH_UP_DAYS", 0)  # exact offset days only
    counts = scan(app, day, only=["annual_report.due"])
    rows = emails(db)
    if sent:
        assert counts == {"annual_report.due": 2}
        assert sorted(n.to_email for n in rows) == sorted([world["zh"].email, world["en"].email])
        assert all(n.object_type == "organizations" and n.object_id == str(world["late"].id) for n in rows)
        assert all(f"/organizations/{world['late'].id}" in n.body_text for n in rows)
        en = next(n for n in rows if n.to_email == world["en"].email)
        assert en.subject == "Annual report due soon" and "2025" in en.body_text and en.due_date == DUE
    else:
        assert rows == []


def test_missed_days_are_caught_up_while_the_due_date_has_not_passed(app, db, world):
    # The beat missed 2026-05-24 (7 days before): the next day's scan still reminds,
    # saying how many days are really left, and the day after writes nothing more.
    assert scan(app, date(2026, 5, 25), only=["annual_report.due"]) == {"annual_report.due": 2}
    en = next(n for n in emails(db) if n.to_email == world["en"].email)
    assert "(in 6 days)" in en.body_text
    assert scan(app, date(2026, 5, 26), only=["annual_report.due"]) == {"annual_report.due": 0}
    # A reminder whose due date has passed is not sent late: the 1-day reminder
    # missed on 2026-05-30 is dropped on 2026-06-01 (the officers' escalation covers it).
    assert not scan(app, date(2026, 6, 1), only=["annual_report.due"]).get("annual_report.due")
    assert len(emails(db)) == 2


def test_scan_twice_writes_once(app, db, world):
    scan(app, date(2026, 5, 24))
    assert scan(app, date(2026, 5, 24)) == {"annual_report.due": 0}
    assert len(emails(db)) == 2
    notices = db.session.scalars(sa.select(Notice)).all()
    assert len(notices) == 2 and {n.user_id for n in notices} == {world["zh"].id, world["en"].id}


def test_escalation_to_officer_the_day_after(app, db, world):
    assert scan(app, date(2026, 5, 31), only=["annual_report.overdue"]) == {}
    counts = scan(app, date(2026, 6, 1), only=["annual_report.overdue"])
    assert counts == {"annual_report.overdue": 1}
    [note] = emails(db)
    assert note.to_email == world["officer"].email and "missing_report=2025" in note.body_text
    assert "1 organizations" in note.body_text


def test_rating_expiring_and_serious_soon(app, db, world):
    officer = world["officer"]
    with app.test_request_context():
        registry.add_rating(officer, world["late"], 4, date(2021, 7, 30))  # expires 2026-07-30
        registry.add_credit_entry(officer, world["filed"], CreditList.ABNORMAL, date(2024, 7, 30), "x")
        db.session.commit()
    counts = scan(app, date(2026, 5, 31))  # 60 days before both
    assert counts.get("rating.expiring") == 2
    assert "standing.serious_soon" not in counts or counts["standing.serious_soon"] == 0
    counts = scan(app, date(2026, 6, 30))  # 30 days before the move
    assert counts.get("standing.serious_soon") == 2  # the org user and the officer
    assert scan(app, date(2026, 7, 23)).get("rating.expiring") == 2  # 7 days before


def test_rule_switched_off_or_offsets_changed_by_config(app, db, world):
    app.config["REMINDERS"] = {"annual_report.due": {"enabled": False}}
    try:
        assert scan(app, date(2026, 5, 24)) == {}
        app.config["REMINDERS"] = {"annual_report.due": {"offsets": (10,)}}
        assert scan(app, date(2026, 5, 24)) == {}
        assert scan(app, date(2026, 5, 21)) == {"annual_report.due": 2}
    finally:
        app.config.pop("REMINDERS")


def test_muted_rule_sends_nothing_critical_cannot_be_muted(app, db, world, client):
    login(client, world["en"].username)
    assert client.post("/notices/mute", data={"rule": "annual_report.due", "muted": "1"}).status_code == 302
    resp = client.post("/notices/mute", data={"rule": "standing.serious_soon", "muted": "1"}, follow_redirects=True)
    assert b"cannot be muted" in resp.data
    scan(app, date(2026, 5, 24))
    assert [n.to_email for n in emails(db)] == [world["zh"].email]
    page = client.get("/notices/").get_data(as_text=True)
    assert "No notices" in page and "Unmute" in page


def test_notices_page_read_and_open(app, db, world, client, make):
    scan(app, date(2026, 5, 24))
    login(client, world["en"].username)
    page = client.get("/notices/?show=unread").get_data(as_text=True)
    assert "The annual report for 2025 of 未报组织 is due by May 31, 2026." in page and "1 unread" in page
    notice = db.session.scalar(sa.select(Notice).where(Notice.user_id == world["en"].id))
    other = db.session.scalar(sa.select(Notice).where(Notice.user_id == world["zh"].id))
    assert client.post(f"/notices/{other.id}/open").status_code == 403
    resp = client.post(f"/notices/{notice.id}/open")
    assert resp.status_code == 302 and resp.location.endswith(f"/organizations/{world['late'].id}")
    assert client.get(resp.location).status_code == 200
    assert "0 unread" in client.get("/notices/").get_data(as_text=True)
    assert client.post("/notices/read-all").status_code == 302
    dash = client.get("/dashboard").get_data(as_text=True)
    assert "Unread notices" in dash


@pytest.mark.parametrize("role", list(Role))
def test_notices_pages_for_every_role(client, make, role):
    user = make.user(role) if role != Role.ADMIN else make.admin()
    make.commit()
    assert client.get("/notices/").status_code == 302  # anonymous
    login(client, user.username)
    assert client.get("/notices/").status_code == 200
    assert client.post("/notices/read-all").status_code == 302
    assert client.post("/notices/999999/open").status_code == 404
