"""A page's query count does not grow with the data: the same pages against two data
sizes issue the same number of SQL statements — the finance pages, and every role's key
pages (dashboards, project and organization lists, an organization's page)."""

from __future__ import annotations

import pytest

from procure.budgets import services as bs
from procure.extensions import db as _db
from procure.projects import services as ps
from procure.roles import Role
from tests.querycount import page_statements

from ..conftest import login

PAGES = ["/budgets/?year=2026", "/budgets/appropriations?year=2026", "/budgets/appropriations/{appr}",
         "/reports/budget-execution?year=2026", "/reports/budget-execution?year=2026&open={group}",
         "/reports/budget-execution?year=2026&q=%E9%A1%B9%E7%9B%AE&page=2",
         "/reports/program-summary?from=2024&to=2026", "/projects/",
         "/projects/{project}", "/dashboard"]


def _fill(make, departments: int, projects_each: int):
    fin = make.finance()
    first = None
    for _d in range(departments):
        officer = make.user(Role.OFFICER)
        cat = make.category()
        for code in ("general", "central"):
            appr = make.appropriation(officer.department, "9000000.00", year=2026, source=code)
            first = first or appr
            for i in range(projects_each):
                p = make.approved_project(officer, appr, "1000.00", ceiling="2000.00", category=cat, served=i)
                c = make.contract(p, officer=officer, amount="900.00").id
                bs.commit_funds(fin, p.allocations[0].id, "900.00", contract_id=c)
                bs.pay(fin, p.allocations[0].id, "100.00", contract_id=c, payment_id=make.payment(c).id)
        ps.submit_project(officer, make.project(officer, category=cat))
    make.commit()
    return fin, first


_count = page_statements


@pytest.mark.parametrize("path", PAGES)
def test_query_count_does_not_grow(app, make, db, client, path):
    fin, appr = _fill(make, 1, 1)
    from procure.projects.models import Project

    project = db.session.query(Project).filter(Project.state == "approved").first()
    login(client, fin.username)
    url = path.format(appr=appr.id, project=project.id, group=f"{appr.source_id}-{appr.department_id}")
    client.get(url)  # warm: the filters' choices are kept per worker (procure.refcache)
    small = _count(app, client, url)
    _fill(make, 3, 4)  # many more departments, appropriations, projects, ledger rows
    client.get(url)
    large = _count(app, client, url)
    assert small >= 3  # the listener sees the page's statements
    if path == "/dashboard":
        # the latest actions load names with one query per kind of object they touch:
        # bounded by the kinds, and here the larger data's latest actions touch fewer
        assert large <= small, f"{url}: {small} queries with little data, {large} with more"
    else:
        assert large == small, f"{url}: {small} queries with little data, {large} with more"


# --- every role's key pages ----------------------------------------------------------

#: (role, path): the role dashboards, the project and organization lists, an
#: organization's page (with its ratings, reports, credit entries and history).
ROLE_PAGES = [("admin", "/dashboard"), ("officer", "/dashboard"), ("finance", "/dashboard"), ("org", "/dashboard"),
              ("evaluator", "/dashboard"), ("officer", "/projects/"), ("finance", "/projects/"),
              ("officer", "/organizations/"), ("officer", "/organizations/?kind=service_org&q=%E7%BB%84%E7%BB%87"),
              ("officer", "/organizations/{org}"), ("org", "/organizations/{org}"), ("admin", "/organizations/")]


def _world(make):
    from datetime import date

    from procure.organizations import services as orgs
    from procure.organizations.models import CreditList, OrgKind

    officer = make.user(Role.OFFICER)
    org = make.organization("查询计数组织", OrgKind.SERVICE_ORG, with_code=True, registration_date=date(1990, 1, 1),
                            registration_authority="重庆市民政局")
    users = {"admin": make.admin(), "officer": officer, "finance": make.finance(),
             "org": make.user(Role.ORG, organization=org), "evaluator": make.user(Role.EVALUATOR)}
    orgs.add_credit_entry(users["admin"], org, CreditList.ABNORMAL, date(2024, 2, 1), "原因")
    return users, org


def _grow(make, users, org, n: int):
    """``n`` more of everything the pages read: organizations with ratings, reports and
    credit entries (also the page's own), projects, notices, audit events; then each
    user's latest actions, of the same kind at every size (the dashboard and the history
    name the objects of the latest events with one query per kind of object: bounded by
    the kinds, not the data, and equal only when the latest events are of the same kinds)."""
    from datetime import date

    from sqlalchemy import insert

    from procure import audit
    from procure.notifications.models import Notice
    from procure.organizations import services as orgs
    from procure.organizations.models import CreditList

    admin = users["admin"]
    for i in range(n):
        other = make.organization(f"增长组织{i}", with_code=True, registration_date=date(2016, 1, 1),
                                  registration_authority=f"区民政局{i % 4}")
        orgs.add_rating(admin, other, 3, date(2024, 1, 2))
        orgs.record_annual_report(admin, other, 2024, date(2025, 3, 1))
    orgs.add_rating(admin, org, 3 + n % 2, date(2024, 1, 2 + n % 20))
    orgs.record_annual_report(admin, org, 2000 + n, date(2025, 3, 1))
    orgs.add_credit_entry(admin, other, CreditList.ABNORMAL, date(2024, 2, 1 + n % 20), f"原因{n}")
    cat = make.category()
    for _i in range(max(1, n // 3)):
        ps.submit_project(users["officer"], make.project(users["officer"], category=cat))
    _db.session.execute(insert(Notice), [{"user_id": u.id, "rule": "test", "text": f"通知{i}"}
                                         for u in users.values() for i in range(n)])
    for user in users.values():  # 60 in all: the organization page's latest 50 events too
        for i in range(12):
            audit.record(user, "test.touch", org, after={"n": i})
    make.commit()


@pytest.mark.parametrize("role,path", ROLE_PAGES)
def test_role_pages_query_count_does_not_grow(app, make, db, client, role, path):
    users, org = _world(make)
    _grow(make, users, org, 2)
    login(client, users[role].username)
    url = path.format(org=org.id)
    client.get(url)  # caches (the authorities drop-down) filled as in a running worker
    small = _count(app, client, url)
    _grow(make, users, org, 12)
    client.get(url)
    large = _count(app, client, url)
    assert small >= 2
    assert large == small, f"{role} {url}: {small} queries with little data, {large} with more"
