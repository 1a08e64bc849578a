"""A year of the holiday calendar counts only once an admin marks it complete, citing
the State Council's notice; days go in as a batch, all or nothing; a complete year is
locked until un-marked with a reason; officers and admins are warned in December when
next year is missing (fault 10 of issue 7)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

import procure.calendar as cal
from procure.audit import AuditEvent
from procure.calendar import CalendarNotEntered, add_working_days, is_working_day, period_end
from procure.calendar.models import DayKind, HolidayEntry, HolidayYear
from procure.calendar.services import (
    BatchInvalid,
    delete_calendar_day,
    enter_calendar_days,
    mark_year_complete,
    parse_batch,
    reopen_year,
    set_calendar_day,
)
from procure.errors import Conflict, NotPermitted, ValidationError
from procure.notifications.models import Notice, Notification
from procure.reminders import engine
from procure.roles import Role

from ..conftest import login

D = date
NOTICE = "国办发明电〔2026〕9号《国务院办公厅关于2027年部分节假日安排的通知》（测试用）"
#: A made-up notice for 2027 in the usual shape (the real one is not published yet).
NEW_YEAR_AND_SPRING = """\
# 一、元旦
2027-01-01 休 元旦
# 二、春节
2027-02-06~2027-02-13 休 春节
2027-02-14 班 春节调休
2027-02-20 班 春节调休
"""
REST_OF_2027 = """\
2027-04-05 休 清明节
2027-04-25 班 劳动节调休
2027-05-01~2027-05-05 休 劳动节
2027-05-08 班 劳动节调休
2027-06-09 休 端午节
2027-09-15 休 中秋节
2027-09-26 班 国庆节调休
2027-10-01~2027-10-07 休 国庆节
2027-10-09 班 国庆节调休
"""


def entries(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(HolidayEntry))


def test_a_year_with_two_holidays_entered_is_not_counted_until_complete(app, db, make):
    admin = make.admin()
    enter_calendar_days(admin, NEW_YEAR_AND_SPRING)
    make.commit()
    # The fault: 2027-10-01 counted as a working day because 2027 "had entries".
    with pytest.raises(CalendarNotEntered) as err:
        is_working_day(D(2027, 10, 1))
    assert err.value.year == 2027 and err.value.entered
    with app.test_request_context(), force_locale("en"):
        assert "not complete" in str(err.value.message)
    with app.test_request_context():
        assert "尚未完成" in str(err.value.message)
    with pytest.raises(CalendarNotEntered):  # even a day that is entered: the year is not trusted yet
        is_working_day(D(2027, 1, 1))
    with pytest.raises(CalendarNotEntered):
        period_end(D(2026, 12, 20), 20)
    with pytest.raises(CalendarNotEntered):
        add_working_days(D(2026, 12, 28), 5)
    assert add_working_days(D(2026, 12, 28), 3) == D(2026, 12, 31)  # 2026 is still counted

    enter_calendar_days(admin, REST_OF_2027)
    mark_year_complete(admin, 2027, NOTICE, D(2026, 11, 20))
    make.commit()
    assert is_working_day(D(2027, 10, 1)) is False
    assert is_working_day(D(2027, 10, 8)) is True
    assert is_working_day(D(2027, 9, 26)) is True  # make-up Sunday
    assert is_working_day(D(2027, 2, 14)) is True
    assert is_working_day(D(2027, 3, 6)) is False  # an ordinary Saturday
    assert add_working_days(D(2027, 9, 30), 1) == D(2027, 10, 8)
    assert period_end(D(2027, 9, 21), 10) == D(2027, 10, 8)  # ends on 10-01 → next working day
    assert add_working_days(D(2026, 12, 28), 5) == D(2027, 1, 5)


def test_a_batch_expands_ranges_and_changes_entered_days(db, make):
    admin = make.admin()
    set_calendar_day(admin, D(2027, 10, 1), DayKind.WORKDAY, "错")
    saved = enter_calendar_days(admin, NEW_YEAR_AND_SPRING + REST_OF_2027)
    assert len(saved) == 1 + 8 + 2 + 1 + 1 + 5 + 1 + 1 + 1 + 1 + 7 + 1
    day = db.session.scalar(sa.select(HolidayEntry).where(HolidayEntry.day == D(2027, 10, 1)))
    assert day.kind == DayKind.HOLIDAY and day.note == "国庆节"
    assert entries(db) == len(saved)


def test_batch_formats_accepted(db):
    days, errors = parse_batch("2027年10月1日至2027年10月3日 休 国庆节\n2027/9/26，班，国庆节调休\n"
                               "2027-01-01\tholiday\tNew Year\n\n# comment\n")
    assert errors == []
    assert [(d.day, d.kind, d.line) for d in days] == [
        (D(2027, 10, 1), DayKind.HOLIDAY, 1), (D(2027, 10, 2), DayKind.HOLIDAY, 1),
        (D(2027, 10, 3), DayKind.HOLIDAY, 1), (D(2027, 9, 26), DayKind.WORKDAY, 2),
        (D(2027, 1, 1), DayKind.HOLIDAY, 3)]


@pytest.mark.parametrize("text, line, words", [
    ("2027-01-01 休 元旦\n2027-02-30 休 春节", 2, "does not exist"),
    ("2027-01-01 休 元旦\n元旦 2027-01-01", 2, "start with a date"),
    ("2027-01-01 放 元旦", 1, "休"),
    ("2027-01-01 休", 1, "name"),
    ("2027-01-01 休 元旦\n\n2027-10-08 班 国庆节调休", 3, "is a weekday"),
    ("2027-10-07~2027-10-01 休 国庆节", 1, "ends before"),
    ("2027-10-01~2027-12-01 休 国庆节", 1, "at most 31 days"),
    ("2027-10-01~2027-10-07 休 国庆节\n2027-10-07 休 国庆节", 2, "already on line 1"),
    ("2027-01-01 休 " + "元" * 201, 1, "too long"),
])
def test_a_batch_with_an_error_saves_nothing_and_names_the_line(app, db, make, text, line, words):
    admin = make.admin()
    with pytest.raises(BatchInvalid) as err:
        enter_calendar_days(admin, text)
    with app.test_request_context(), force_locale("en"):
        messages = [str(e) for e in err.value.errors]
    assert len(messages) == 1 and messages[0].startswith(f"Line {line}:") and words in messages[0], messages
    assert entries(db) == 0


def test_every_bad_line_is_reported_at_once(db, make):
    with pytest.raises(BatchInvalid) as err:
        enter_calendar_days(make.admin(), "2027-01-01 休 元旦\nx\n2027-02-30 休 春节\n2027-01-02 休")
    assert len(err.value.errors) == 3
    assert parse_batch("\n# only a comment\n")[1]  # nothing to enter is an error too


def test_marking_complete_cites_the_notice(db, make):
    admin = make.admin()
    with pytest.raises(ValidationError) as err:
        mark_year_complete(admin, 2027, NOTICE, D(2026, 11, 20))
    assert err.value.field == "notice_ref"  # no day entered yet
    enter_calendar_days(admin, NEW_YEAR_AND_SPRING)
    for ref, issued, field in [("", D(2026, 11, 20), "notice_ref"), ("  ", D(2026, 11, 20), "notice_ref"),
                               (NOTICE, None, "notice_date"), (NOTICE, D(2025, 11, 20), "notice_date"),
                               (NOTICE, D(2028, 1, 2), "notice_date")]:
        with pytest.raises(ValidationError) as err:
            mark_year_complete(admin, 2027, ref, issued)
        assert err.value.field == field
    row = mark_year_complete(admin, 2027, NOTICE, D(2026, 11, 20))
    assert row.is_complete and row.notice_ref == NOTICE and row.notice_date == D(2026, 11, 20)
    with pytest.raises(Conflict):
        mark_year_complete(admin, 2027, NOTICE, D(2026, 11, 20))


def test_a_complete_year_is_locked_until_unmarked_with_a_reason(db, make):
    admin = make.admin()
    enter_calendar_days(admin, NEW_YEAR_AND_SPRING + REST_OF_2027)
    mark_year_complete(admin, 2027, NOTICE, D(2026, 11, 20))
    make.commit()
    entry = db.session.scalar(sa.select(HolidayEntry).where(HolidayEntry.day == D(2027, 6, 9)))
    with pytest.raises(ValidationError):
        set_calendar_day(admin, D(2027, 6, 10), DayKind.HOLIDAY, "端午节")
    with pytest.raises(ValidationError):
        delete_calendar_day(admin, entry.id)
    with pytest.raises(BatchInvalid) as err:
        enter_calendar_days(admin, "2026-12-31 休 测试\n2027-06-10 休 端午节")
    assert len(err.value.errors) == 1  # line 2 only: 2026 is not locked
    assert is_working_day(D(2026, 12, 31)) is True  # and nothing of the batch was saved
    for reason in ("", "   "):
        with pytest.raises(ValidationError):
            reopen_year(admin, 2027, reason)
    reopen_year(admin, 2027, "通知更正：端午节改为6月10日")
    make.commit()
    with pytest.raises(CalendarNotEntered):  # not counted while it is being corrected
        is_working_day(D(2027, 6, 9))
    delete_calendar_day(admin, entry.id)
    set_calendar_day(admin, D(2027, 6, 10), DayKind.HOLIDAY, "端午节")
    mark_year_complete(admin, 2027, NOTICE + "（更正）", D(2026, 11, 25))
    make.commit()
    assert is_working_day(D(2027, 6, 9)) is True and is_working_day(D(2027, 6, 10)) is False
    with pytest.raises(Conflict):
        reopen_year(admin, 2026, "not marked")
    events = [(e.action, e.after) for e in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == "holiday_years").order_by(AuditEvent.seq))]
    assert [a for a, _ in events] == ["calendar.year_complete", "calendar.year_reopen", "calendar.year_complete"]
    assert events[1][1]["reason"] == "通知更正：端午节改为6月10日" and events[1][1]["is_complete"] is False
    assert events[0][1]["notice_ref"] == NOTICE


@pytest.mark.parametrize("role", [Role.OFFICER, Role.FINANCE, Role.ORG, Role.EVALUATOR])
def test_only_admins_change_the_calendar(db, make, role):
    admin, user = make.admin(), make.user(role)
    enter_calendar_days(admin, NEW_YEAR_AND_SPRING)
    with pytest.raises(NotPermitted):
        enter_calendar_days(user, REST_OF_2027)
    with pytest.raises(NotPermitted):
        mark_year_complete(user, 2027, NOTICE, D(2026, 11, 20))
    mark_year_complete(admin, 2027, NOTICE, D(2026, 11, 20))
    with pytest.raises(NotPermitted):
        reopen_year(user, 2027, "why not")
    assert db.session.get(HolidayYear, 2027).is_complete


# --- the December warning ------------------------------------------------------------


def _scan(app, db, day):
    with app.test_request_context():
        counts = engine.scan(day, only=["calendar.next_year_missing"])
        db.session.commit()
    return counts


def test_officers_and_admins_are_reminded_in_december(app, db, make):
    officer, admin = make.user(Role.OFFICER, locale="en"), make.admin()
    make.user(Role.FINANCE)
    make.commit()
    officer_id, officer_email, admin_email = officer.id, officer.email, admin.email
    assert _scan(app, db, D(2026, 11, 30)) == {}  # not yet December
    assert _scan(app, db, D(2026, 12, 1)) == {"calendar.next_year_missing": 2}
    rows = db.session.scalars(sa.select(Notification).where(Notification.rule == "calendar.next_year_missing")).all()
    assert {n.to_email for n in rows} == {officer_email, admin_email}
    en = next(n for n in rows if n.to_email == officer_email)
    assert en.subject == "Next year's holiday calendar is not complete"
    assert "2027" in en.body_text and "/admin/calendar/?year=2027" in en.body_text
    notice = db.session.scalar(sa.select(Notice).where(Notice.user_id == officer_id))
    assert notice.is_critical and "2027" in notice.text
    assert _scan(app, db, D(2026, 12, 1)).get("calendar.next_year_missing", 0) == 0  # written once
    assert _scan(app, db, D(2025, 12, 1)) == {}  # the package knows 2026

    enter_calendar_days(admin, NEW_YEAR_AND_SPRING + REST_OF_2027)
    mark_year_complete(admin, 2027, NOTICE, D(2026, 11, 20))
    make.commit()
    assert _scan(app, db, D(2026, 12, 18)) == {}  # 2027 is complete: nobody is warned


@pytest.mark.parametrize("role, shown", [(Role.OFFICER, True), (Role.ADMIN, True), (Role.FINANCE, False)])
def test_the_dashboard_warns_in_december(client, db, make, monkeypatch, role, shown):
    user = make.user(role)
    make.commit()
    login(client, user.username)
    monkeypatch.setattr(cal, "local_today", lambda: D(2026, 11, 30))
    assert 'data-queue="calendar.next_year"' not in client.get("/dashboard").get_data(as_text=True)
    monkeypatch.setattr(cal, "local_today", lambda: D(2026, 12, 10))
    page = client.get("/dashboard").get_data(as_text=True)
    assert ('data-queue="calendar.next_year"' in page) is shown
    if shown:
        assert "/admin/calendar/?year=2027" in page and "明年节假日安排尚未完成" in page
        assert 'id="calendar-missing"' in client.get("/admin/calendar/").get_data(as_text=True)


def test_no_december_warning_once_next_year_is_complete(client, db, make, monkeypatch):
    admin = make.admin()
    enter_calendar_days(admin, NEW_YEAR_AND_SPRING)
    mark_year_complete(admin, 2027, NOTICE, D(2026, 11, 20))
    officer = make.user(Role.OFFICER)
    make.commit()
    login(client, officer.username)
    monkeypatch.setattr(cal, "local_today", lambda: D(2026, 12, 10))
    assert 'data-queue="calendar.next_year"' not in client.get("/dashboard").get_data(as_text=True)
    monkeypatch.setattr(cal, "local_today", lambda: D(2025, 12, 10))  # 2026: the package knows it
    assert 'data-queue="calendar.next_year"' not in client.get("/dashboard").get_data(as_text=True)


# --- the page ---------------------------------------------------------------------------


def test_batch_and_complete_through_the_page(client, db, make):
    admin = make.admin()
    admin.locale = "en"
    make.commit()
    login(client, admin.username)
    bad = client.post("/admin/calendar/batch?year=2027", data={"lines": "2027-01-01 休 元旦\n2027-02-30 休 春节"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Nothing was saved" in text and "Line 2:" in text
    assert "2027-02-30 休 春节" in text  # what was typed is kept
    assert entries(db) == 0
    ok = client.post("/admin/calendar/batch?year=2027", data={"lines": NEW_YEAR_AND_SPRING + REST_OF_2027})
    assert ok.status_code == 302 and ok.location.endswith("year=2027")
    page = client.get("/admin/calendar/?year=2027").get_data(as_text=True)
    assert 'data-status="incomplete"' in page and "国庆节" in page
    missing = client.post("/admin/calendar/2027/complete", data={"notice_ref": NOTICE, "notice_date": "2025-01-01"})
    assert missing.status_code == 400 and "is-invalid" in missing.get_data(as_text=True)
    done = client.post("/admin/calendar/2027/complete", data={"notice_ref": NOTICE, "notice_date": "2026-11-20"})
    assert done.status_code == 302
    page = client.get("/admin/calendar/?year=2027").get_data(as_text=True)
    assert 'data-status="complete"' in page and NOTICE in page and 'id="reopen"' in page and 'id="batch"' not in page
    assert client.post("/admin/calendar/2027/reopen", data={"reason": ""}).status_code == 400
    assert client.post("/admin/calendar/2027/reopen", data={"reason": "更正"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(HolidayYear, 2027).is_complete is False


def test_officers_read_the_page_without_forms(client, db, make):
    officer = make.user(Role.OFFICER)
    make.commit()
    login(client, officer.username)
    page = client.get("/admin/calendar/?year=2027").get_data(as_text=True)
    assert 'data-status="incomplete"' in page and 'id="batch"' not in page and 'id="one-day"' not in page


@pytest.mark.sqlite
def test_complete_years_on_sqlite(tmp_path, services_ready):
    """The embedded default: the complete mark, its CHECK and the counting work on SQLite."""
    from flask_migrate import upgrade

    from procure import create_app
    from procure.auth.models import User
    from procure.extensions import db as _db

    from ..conftest import app_config

    app = create_app("testing", **app_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'cal.sqlite'}"))
    with app.app_context():
        upgrade()
        admin = User(username="root", email="root@example.org", name="管理员", role=Role.ADMIN)
        admin.set_password("x" * 12)
        _db.session.add(admin)
        _db.session.flush()
        enter_calendar_days(admin, NEW_YEAR_AND_SPRING)
        _db.session.commit()
        with pytest.raises(CalendarNotEntered):
            is_working_day(D(2027, 10, 1))
        enter_calendar_days(admin, REST_OF_2027)
        mark_year_complete(admin, 2027, NOTICE, D(2026, 11, 20))
        _db.session.commit()
        assert is_working_day(D(2027, 10, 1)) is False and is_working_day(D(2027, 10, 9)) is True
        with pytest.raises(sa.exc.IntegrityError):  # the CHECK: complete cites a notice
            _db.session.execute(sa.update(HolidayYear).values(notice_date=None))
        _db.session.rollback()
        _db.session.remove()


def test_marking_a_year_races_on_postgresql(app, db, make):
    """Two admins mark the year complete at once, then one un-marks it while another marks
    it again: each race has exactly one winner, the loser is told why, nothing is lost."""
    from procure.auth.models import User

    from ..threads import race

    admin = make.admin()
    other = make.user(Role.ADMIN, username="admin2")
    enter_calendar_days(admin, NEW_YEAR_AND_SPRING)
    db.session.commit()
    ids = (admin.id, other.id)

    def mark(d, uid, ref):
        mark_year_complete(d.session.get(User, uid), 2027, ref, D(2026, 11, 20))

    for _round in range(5):
        ok, refused = race(app, [lambda d: mark(d, ids[0], NOTICE), lambda d: mark(d, ids[1], NOTICE + "（二）")])
        assert len(ok) == 1 and [r[1] for r in refused] == ["Conflict"]
        db.session.expire_all()
        row = db.session.get(HolidayYear, 2027)
        assert row.is_complete and row.notice_ref == (NOTICE, NOTICE + "（二）")[ok[0]]
        ok, refused = race(app, [lambda d: reopen_year(d.session.get(User, ids[0]), 2027, "更正"),
                                 lambda d: reopen_year(d.session.get(User, ids[1]), 2027, "更正")])
        assert len(ok) == 1 and [r[1] for r in refused] == ["Conflict"]
    db.session.expire_all()
    assert not db.session.get(HolidayYear, 2027).is_complete
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.object_type == "holiday_years")).all()
    assert actions.count("calendar.year_complete") == 5 and actions.count("calendar.year_reopen") == 5
