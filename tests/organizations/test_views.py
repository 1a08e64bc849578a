"""Registry pages: access per role per route (table-driven), forms with bad input, the
list's filters and its constant query count."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from procure.organizations import services
from procure.organizations.models import CreditList, CreditStanding, Organization, OrgKind
from procure.roles import Role

from ..conftest import get_as, login
from ..factories import credit_code

ANON, ADMIN, OFFICER, FINANCE, ORG, EVALUATOR = "anon", *Role
SIGNED_IN = [ADMIN, OFFICER, FINANCE, ORG, EVALUATOR]
STAFF = {ADMIN, OFFICER}

#: path -> roles that get 200 (all others signed in get 403; anonymous goes to sign-in)
PAGES = {
    "/organizations/": {ADMIN, OFFICER, FINANCE},
    "/organizations/new": STAFF,
    "/organizations/{own_org}": {ADMIN, OFFICER, FINANCE, ORG},
    "/organizations/{other_org}": {ADMIN, OFFICER, FINANCE},
    "/organizations/{own_org}/edit": STAFF,
    "/organizations/{own_org}/profile": {ADMIN, OFFICER, ORG},
    "/organizations/{other_org}/profile": STAFF,
    "/organizations/import": STAFF,
}

#: POST routes that change data: only these roles get past the permission check.
POSTS = {
    "/organizations/new": STAFF,
    "/organizations/{own_org}/edit": STAFF,
    "/organizations/{own_org}/profile": {ADMIN, OFFICER, ORG},
    "/organizations/{other_org}/profile": STAFF,
    "/organizations/{own_org}/ratings": STAFF,
    "/organizations/{own_org}/annual-reports": STAFF,
    "/organizations/{own_org}/credit": STAFF,
    "/organizations/{own_org}/credit/{entry}/confirm": STAFF,
    "/organizations/{own_org}/credit/{entry}/reject": STAFF,
    "/organizations/{own_org}/credit/{entry}/remove": STAFF,
    "/organizations/import": STAFF,
}


@pytest.fixture()
def world(app, make, db):
    own = make.organization(with_code=True, registration_date=date(2020, 1, 1))
    other = make.organization(with_code=True, registration_date=date(2020, 1, 1), contact_phone="13900000000")
    users = {ADMIN: make.admin(), OFFICER: make.user(Role.OFFICER, locale="en"), FINANCE: make.user(Role.FINANCE),
             ORG: make.user(Role.ORG, organization=own, locale="en"), EVALUATOR: make.user(Role.EVALUATOR)}
    with app.test_request_context():
        entry = services.add_credit_entry(users[ADMIN], own, CreditList.ABNORMAL, date(2025, 1, 1), "x")
    make.commit()
    return users, {"own_org": own.id, "other_org": other.id, "entry": entry.id}


CASES = [(p, r) for p in PAGES for r in [ANON, *SIGNED_IN]]


@pytest.mark.parametrize(("path", "role"), CASES, ids=[f"{r}:{p}" for p, r in CASES])
def test_get_pages(client, world, path, role):
    users, ids = world
    resp = get_as(client, users, role, path.format(**ids), PAGES[path])
    if role != ANON and role not in PAGES[path]:
        assert b"13900000000" not in resp.data


POST_CASES = [(p, r) for p in POSTS for r in [ANON, *SIGNED_IN] if r not in POSTS[p]]


@pytest.mark.parametrize(("path", "role"), POST_CASES, ids=[f"{r}:{p}" for p, r in POST_CASES])
def test_posts_refused(client, world, db, path, role):
    users, ids = world
    if role != ANON:
        login(client, users[role].username)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Organization))
    resp = client.post(path.format(**ids), data={"name": "hijack", "kind": "filed", "contact_name": "hijack",
                                                 "level": "5", "rated_on": "2025-01-01", "reason": "x",
                                                 "list": "serious", "listed_on": "2025-01-01", "year": "2024"})
    assert resp.status_code == (302 if role == ANON else 403)
    if role == ANON:
        assert "/login" in resp.location
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == before
    assert not db.session.scalar(sa.select(Organization).where(
        (Organization.contact_name == "hijack") | (Organization.name == "hijack")))


def test_org_user_cannot_read_other_private_data(client, world):
    users, ids = world
    login(client, users[ORG].username)
    assert client.get(f"/organizations/{ids['other_org']}").status_code == 403
    assert client.get("/organizations/").status_code == 403
    own = client.get(f"/organizations/{ids['own_org']}")
    assert b"Edit profile" in own.data and b"Edit registration data" not in own.data
    assert b"Add to list" not in own.data


def test_register_with_a_bad_code_keeps_input_and_explains(client, world, db):
    users, _ids = world
    login(client, users[OFFICER].username)
    code = credit_code(OrgKind.SOCIAL_GROUP, 99)
    resp = client.post("/organizations/new", data={"name": "打错的协会", "kind": "service_org",
                                                    "credit_code": code, "status": "normal"})
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "second character" in page and "打错的协会" in page and code in page
    assert db.session.scalar(sa.select(Organization).where(Organization.name == "打错的协会")) is None
    resp = client.post("/organizations/new", data={"name": "打错的协会", "kind": "social_group",
                                                    "credit_code": code.lower(), "status": "normal",
                                                    "registration_date": "2019-01-05"})
    assert resp.status_code == 302
    db.session.expire_all()
    org = db.session.scalar(sa.select(Organization).where(Organization.name == "打错的协会"))
    assert org.credit_code == code and org.registration_date == date(2019, 1, 5)


def test_org_user_edits_own_profile(client, world, db):
    users, ids = world
    login(client, users[ORG].username)
    resp = client.post(f"/organizations/{ids['own_org']}/profile",
                       data={"contact_name": "联系人", "contact_email": "not-an-email"})
    assert resp.status_code == 200 and b"is-invalid" in resp.data and "联系人".encode() in resp.data
    resp = client.post(f"/organizations/{ids['own_org']}/profile",
                       data={"contact_name": "联系人", "contact_email": "a@example.org", "name": "x"})
    assert resp.status_code == 302
    db.session.expire_all()
    org = db.session.get(Organization, ids["own_org"])
    assert org.contact_email == "a@example.org" and org.name != "x"


def test_officer_forms_on_the_detail_page(client, world, db):
    users, ids = world
    login(client, users[OFFICER].username)
    base = f"/organizations/{ids['own_org']}"
    bad = client.post(base + "/ratings", data={"level": "4", "rated_on": "not a date"})
    assert bad.status_code == 400 and b"is-invalid" in bad.data
    assert client.post(base + "/ratings", data={"level": "4", "rated_on": "2024-01-01"}).status_code == 302
    assert client.post(base + "/annual-reports", data={"year": "2024", "filed_on": "2025-03-01"}).status_code == 302
    dup = client.post(base + "/credit", data={"list": "abnormal", "listed_on": "2025-02-01", "reason": "again"})
    assert dup.status_code == 400 and b"already on this list" in dup.data
    resp = client.post(base + f"/credit/{ids['entry']}/remove", data={"removed_on": "2025-03-01", "reason": "整改"})
    assert resp.status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert "4A" in page and "整改" in page and "Rating recorded" in page and "rating.create" not in page  # history
    db.session.expire_all()
    org = db.session.get(Organization, ids["own_org"])
    assert org.rating_level == 4 and org.credit_standing == CreditStanding.NORMAL


def test_detail_lists_every_failed_eligibility_condition(client, world, make, db):
    users, ids = world
    login(client, users[OFFICER].username)
    page = client.get(f"/organizations/{ids['own_org']}").get_data(as_text=True)
    assert 'data-reason="abnormal"' in page and 'data-reason="annual_report"' in page
    assert "Not eligible" in page


def _count_queries(app, fn):
    from procure.extensions import db as _db

    seen = []
    with app.app_context():
        engine = _db.engine

    def before(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        fn()
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
    return len(seen)


def test_list_filters_and_constant_query_count(client, world, make, db, app):
    users, ids = world
    login(client, users[OFFICER].username)
    make.organization("筛选测试基金会", OrgKind.FOUNDATION, with_code=True, registration_authority="重庆市民政局",
                      rating_level=5)
    make.commit()
    page = client.get("/organizations/?kind=foundation").get_data(as_text=True)
    assert "筛选测试基金会" in page
    assert "筛选测试基金会" not in client.get("/organizations/?kind=social_group").get_data(as_text=True)
    assert "筛选测试基金会" in client.get("/organizations/?rating=5&authority=重庆市民政局").get_data(as_text=True)
    assert "筛选测试基金会" not in client.get("/organizations/?standing=abnormal").get_data(as_text=True)
    assert "筛选测试基金会" in client.get("/organizations/?q=筛选").get_data(as_text=True)
    # each count is taken with the authorities drop-down cached (the request before read it)
    client.get("/organizations/")
    small = _count_queries(app, lambda: client.get("/organizations/?rating=&q="))
    for i in range(60):
        make.organization(f"批量组织{i:03d}", with_code=True, registration_authority=f"区民政局{i % 5}")
    make.commit()
    cold = _count_queries(app, lambda: client.get("/organizations/"))
    big = _count_queries(app, lambda: client.get("/organizations/"))
    assert big == small
    assert cold == big + 1  # the writes made the worker read the drop-down again, once
    assert "批量组织" in client.get("/organizations/?page=2").get_data(as_text=True)


def test_list_authorities_follow_writes_and_count_is_capped(client, world, make, db, app, monkeypatch):
    from procure.organizations.lists import ORGANIZATIONS

    users, ids = world
    login(client, users[OFFICER].username)
    assert "新设区民政局" not in client.get("/organizations/").get_data(as_text=True)
    make.organization("新设机关登记的组织", with_code=True, registration_authority="新设区民政局")
    make.commit()
    assert '<option value="新设区民政局"' in client.get("/organizations/").get_data(as_text=True)
    # a statement (as the importer writes) clears the cached drop-down too
    db.session.execute(sa.update(Organization).where(Organization.name == "新设机关登记的组织")
                       .values(registration_authority="改名区民政局"))
    db.session.commit()
    page = client.get("/organizations/").get_data(as_text=True)
    assert '<option value="改名区民政局"' in page and '<option value="新设区民政局"' not in page

    total = db.session.scalar(sa.select(sa.func.count()).select_from(Organization))
    assert f'id="organizations-count">{total} in all' in page
    monkeypatch.setattr(ORGANIZATIONS, "count_cap", total - 1)
    page = client.get("/organizations/").get_data(as_text=True)
    assert f'id="organizations-count">{total - 1}+ in all' in page


@pytest.mark.parametrize("query", ["base=²", "base=99999999999999999999", "missing_report=²",
                                   "missing_report=0000", "missing_report=99999", "missing_report=9999"])
def test_list_ignores_bad_numeric_filters(client, world, query):
    users, _ids = world
    login(client, users[OFFICER].username)
    assert client.get(f"/organizations/?{query}").status_code == 200
