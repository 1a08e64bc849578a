"""The holiday calendar admin page."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from procure.calendar.models import HolidayEntry
from procure.roles import Role

from ..conftest import login


@pytest.mark.parametrize("role, read, write", [
    (Role.ADMIN, 200, 302), (Role.OFFICER, 200, 403), (Role.FINANCE, 403, 403), (Role.ORG, 403, 403),
    (Role.EVALUATOR, 403, 403),
])
def test_access(client, make, role, read, write):
    """Officers read the calendar (they set the periods); only admins change it."""
    user = make.user(role)
    make.commit()
    login(client, user.username)
    assert client.get("/admin/calendar/?year=2027").status_code == read
    assert client.post("/admin/calendar/", data={"day": "2027-01-01", "kind": "holiday"}).status_code == write
    assert client.post("/admin/calendar/batch", data={"lines": "2027-01-01 休 元旦"}).status_code == (
        302 if write == 302 else 403)
    assert client.post("/admin/calendar/2027/complete", data={
        "notice_ref": "国办发明电〔2026〕1号", "notice_date": "2026-11-20"}).status_code == write
    assert client.post("/admin/calendar/2027/reopen", data={"reason": "更正"}).status_code == write


def test_add_change_and_remove_a_day(client, db, make):
    admin = make.admin()
    admin.locale = "en"
    make.commit()
    login(client, admin.username)
    resp = client.post("/admin/calendar/", data={"day": "2027-01-01", "kind": "holiday", "note": "元旦"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("year=2027")
    page = client.get("/admin/calendar/?year=2027").get_data(as_text=True)
    assert "2027-01-01" in page and "元旦" in page
    entry = db.session.scalar(sa.select(HolidayEntry))
    assert entry.day == date(2027, 1, 1)
    assert client.post(f"/admin/calendar/{entry.id}/delete?year=2027").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(HolidayEntry.id))) == 0


@pytest.mark.parametrize("data", [
    {"day": "", "kind": "holiday"}, {"day": "2027-02-30", "kind": "holiday"}, {"day": "2027-01-01", "kind": "party"},
    {"day": "2027-01-01", "kind": "holiday", "note": "x" * 201},
])
def test_bad_input_is_shown_on_the_form(client, db, make, data):
    admin = make.admin()
    make.commit()
    login(client, admin.username)
    resp = client.post("/admin/calendar/", data=data)
    assert resp.status_code == 200
    assert "is-invalid" in resp.get_data(as_text=True) or "invalid-feedback" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(HolidayEntry.id))) == 0


@pytest.mark.parametrize("year", ["9999", "-5", "0", "abc", "100000"])
def test_a_year_out_of_range_shows_this_year(client, make, year):
    admin = make.admin()
    make.commit()
    login(client, admin.username)
    assert client.get(f"/admin/calendar/?year={year}").status_code == 200
