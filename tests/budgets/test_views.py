"""Budget, project and report pages: access per role, bad input on forms, the budget
check through the web, totals in page and xlsx equal to independently computed ones."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from procure.budgets.models import Appropriation, LedgerEntry
from procure.projects import services as ps
from procure.projects.models import Project, ProjectState
from procure.roles import Role

from ..conftest import get_as
from ..conftest import login as _login


def login(client, username):
    client.post("/logout")
    return _login(client, username)

ANON, ADMIN, OFFICER, FINANCE, ORG, EVALUATOR = "anon", *Role
SIGNED_IN = [ADMIN, OFFICER, FINANCE, ORG, EVALUATOR]


@pytest.fixture()
def world(make, db):
    officer = make.user(Role.OFFICER, locale="en")
    fin = make.finance()
    fin.locale = "en"
    appr = make.appropriation(officer.department, "1000000.00")
    own = make.approved_project(officer, appr, "12345.67", ceiling="20000.00")
    other_officer = make.user(Role.OFFICER)
    other_appr = make.appropriation(other_officer.department, "500.00", source="lottery")
    other = make.project(other_officer)
    cat = make.category()
    users = {ADMIN: make.admin(), OFFICER: officer, FINANCE: fin, ORG: make.user(Role.ORG),
             EVALUATOR: make.user(Role.EVALUATOR)}
    make.commit()
    ids = {"appr": appr.id, "own": own.id, "other": other.id, "other_appr": other_appr.id, "cat": cat.id}
    return users, ids


FINANCE_PAGES = {ADMIN, FINANCE}
PAGES = {
    "/budgets/": FINANCE_PAGES,
    "/budgets/appropriations": FINANCE_PAGES,
    "/budgets/appropriations/{appr}": FINANCE_PAGES,
    "/budgets/appropriations/new": {FINANCE},
    "/reports/budget-execution": FINANCE_PAGES,
    "/reports/budget-execution.xlsx": FINANCE_PAGES,
    "/projects/": {ADMIN, OFFICER, FINANCE},
    "/projects/new": {OFFICER},
    "/projects/{own}": {ADMIN, OFFICER, FINANCE},
    "/projects/{other}": {ADMIN, FINANCE},
    "/projects/{other}/edit": set(),
    "/projects/catalogue": {ADMIN},
    "/projects/catalogue/{cat}": {ADMIN},
}
CASES = [(p, r) for p in PAGES for r in [ANON, *SIGNED_IN]]


@pytest.mark.parametrize(("path", "role"), CASES, ids=[f"{r}:{p}" for p, r in CASES])
def test_access(client, world, path, role):
    users, ids = world
    get_as(client, users, role, path.format(**ids), PAGES[path])


POSTS = {
    "/budgets/appropriations/{appr}": ({"delta": "5", "reason": "x"}, {FINANCE}),
    "/projects/{own}/cancel": ({"cancel-reason": "x"}, {OFFICER, FINANCE}),
    "/projects/{other}/submit": ({}, set()),
    "/projects/{own}/approve": ({}, {FINANCE}),
}
POST_CASES = [(p, r) for p in POSTS for r in SIGNED_IN if r not in POSTS[p][1]]


@pytest.mark.parametrize(("path", "role"), POST_CASES, ids=[f"{r}:{p}" for p, r in POST_CASES])
def test_posts_refused(client, world, db, path, role):
    users, ids = world
    login(client, users[role].username)
    before = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    resp = client.post(path.format(**ids), data=POSTS[path][0])
    assert resp.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == before


def test_officer_list_shows_only_own_department(client, world):
    users, ids = world
    login(client, users[OFFICER].username)
    page = client.get("/projects/").get_data(as_text=True)
    assert f'data-project="{ids["own"]}"' in page and f'data-project="{ids["other"]}"' not in page
    login(client, users[FINANCE].username)
    page = client.get("/projects/").get_data(as_text=True)
    assert f'data-project="{ids["own"]}"' in page and f'data-project="{ids["other"]}"' in page


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"amount": "-5"}, "amount", "cannot be negative"),
    ({"amount": "10.005"}, "amount", "two decimals"),
    ({"source_id": "99999"}, "source_id", "known funding source"),
    ({"fiscal_year": "1888"}, "fiscal_year", "between 2000"),
    ({"fiscal_year": "2200"}, "fiscal_year", "between 2000"),
])
def test_appropriation_form_bad_input(client, world, db, make, data, field, message):
    users, _ids = world
    login(client, users[FINANCE].username)
    form = {"source_id": str(make.sources()["central"].id), "fiscal_year": "2026",
            "department_id": str(users[OFFICER].department_id), "amount": "100.00", "reference": "渝财社〔2026〕1号"}
    form.update(data)
    before = db.session.scalar(select(func.count()).select_from(Appropriation))
    resp = client.post("/budgets/appropriations/new", data=form)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and message in page
    assert f'value="{form["amount"]}"' in page or field == "amount"  # what was typed is kept
    assert re.search(rf'id="{field}"[^>]*is-invalid|is-invalid[^>]*id="{field}"', page), page[-2000:]
    assert db.session.scalar(select(func.count()).select_from(Appropriation)) == before


def test_appropriation_form_keeps_fen(client, world, db, make):
    users, _ids = world
    login(client, users[FINANCE].username)
    resp = client.post("/budgets/appropriations/new", data={
        "source_id": str(make.sources()["central"].id), "fiscal_year": "2026",
        "department_id": str(users[OFFICER].department_id), "amount": "1,234,567.89"})
    assert resp.status_code == 302
    appr = db.session.scalars(select(Appropriation).order_by(Appropriation.id.desc())).first()
    assert appr.amount == Decimal("1234567.89")
    assert "1,234,567.89" in client.get(resp.location).get_data(as_text=True)


def test_adjust_through_the_page(client, world, db):
    users, ids = world
    login(client, users[FINANCE].username)
    bad = client.post(f"/budgets/appropriations/{ids['appr']}", data={"delta": "-999999999", "reason": "x"})
    assert bad.status_code == 400 and "below what is already allocated" in bad.get_data(as_text=True)
    ok = client.post(f"/budgets/appropriations/{ids['appr']}", data={"delta": "-0.01", "reason": "调减一分"})
    assert ok.status_code == 302
    page = client.get(ok.location).get_data(as_text=True)
    assert "调减一分" in page and "999,999.99" in page


def test_budget_check_through_the_web(client, world, db, make):
    users, ids = world
    officer = users[OFFICER]
    p = make.project(db.session.merge(officer), ceiling="5000.00")
    ps.submit_project(officer, p)
    make.commit()
    login(client, users[FINANCE].username)
    over = client.post(f"/projects/{p.id}/approve", data={
        "allocations-0-appropriation_id": str(ids["appr"]), "allocations-0-amount": "5000.01"})
    assert over.status_code == 400 and "budget ceiling" in over.get_data(as_text=True)
    assert 'value="5000.01"' in over.get_data(as_text=True)
    foreign = client.post(f"/projects/{p.id}/approve", data={
        "allocations-0-appropriation_id": str(ids["other_appr"]), "allocations-0-amount": "1"})
    assert foreign.status_code == 400 and "department and fiscal year" in foreign.get_data(as_text=True)
    ok = client.post(f"/projects/{p.id}/approve", data={
        "allocations-0-appropriation_id": str(ids["appr"]), "allocations-0-amount": "4999.99"})
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(Project, p.id).state == ProjectState.APPROVED
    assert db.session.get(Appropriation, ids["appr"]).allocated == Decimal("17345.66")


def test_return_and_create_through_the_web(client, world, db, make):
    users, ids = world
    login(client, users[OFFICER].username)
    form = {"title": "社区居家养老服务", "category_id": str(ids["cat"]), "fiscal_year": "2026",
            "service_area": "渝中区", "target_group": "老人", "budget_ceiling": "88888.88", "method": "consultation",
            "period_start": "2026-03-01", "period_end": "2026-12-31",
            "targets-0-indicator": "服务人数", "targets-0-unit": "人", "targets-0-target_value": "500",
            "targets-0-is_beneficiaries": "y", "targets-1-indicator": "只有指标"}
    bad = client.post("/projects/new", data=form)
    assert bad.status_code == 400 and "Each target needs" in bad.get_data(as_text=True)
    form.pop("targets-1-indicator")
    resp = client.post("/projects/new", data=form)
    assert resp.status_code == 302
    pid = int(resp.location.rstrip("/").split("/")[-1])
    assert client.post(f"/projects/{pid}/submit").status_code == 302
    login(client, users[FINANCE].username)
    assert client.post(f"/projects/{pid}/return", data={"ret-reason": "请补充绩效目标"}).status_code == 302
    db.session.expire_all()
    project = db.session.get(Project, pid)
    assert project.state == ProjectState.DRAFT and project.budget_ceiling == Decimal("88888.88")
    assert project.targets[0].is_beneficiaries


def test_dashboard_queue_for_finance(client, world, make, db):
    users, _ids = world
    officer = db.session.merge(users[OFFICER])
    p = make.project(officer)
    ps.submit_project(officer, p)
    make.commit()
    login(client, users[FINANCE].username)
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'data-queue="budget.check"' in page
    budget = client.get("/budgets/?year=2026").get_data(as_text=True)
    assert p.title in budget and "<svg" in budget


def test_edit_page_shows_the_targets_and_saves_fen(client, world, make, db):
    users, ids = world
    officer = db.session.merge(users[OFFICER])
    p = make.project(officer, ceiling="1234.56")
    make.commit()
    login(client, officer.username)
    page = client.get(f"/projects/{p.id}/edit").get_data(as_text=True)
    assert 'value="服务对象人数"' in page and 'value="1200.50"' in page and 'value="1234.56"' in page
    approved = client.get(f"/projects/{ids['own']}/edit")
    assert approved.status_code == 302  # only drafts are edited
    form = {"title": "改过的项目", "category_id": str(p.category_id), "fiscal_year": "2026", "service_area": "a",
            "target_group": "b", "budget_ceiling": "0.01", "method": "inquiry", "period_start": "2026-01-01",
            "period_end": "2026-01-31", "targets-0-indicator": "人数", "targets-0-unit": "人",
            "targets-0-target_value": "3"}
    assert client.post(f"/projects/{p.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(Project, p.id).budget_ceiling == Decimal("0.01")
