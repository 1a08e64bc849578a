"""A page's query count does not grow with the data: the same pages against two data
sizes issue the same number of SQL statements."""

from __future__ import annotations

import pytest

from procure.budgets import services as bs
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
                bs.commit_funds(fin, p.allocations[0].id, "900.00", contract_id=p.id)
                bs.pay(fin, p.allocations[0].id, "100.00", contract_id=p.id, payment_id=p.id)
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
    small = _count(app, client, url)
    _fill(make, 3, 4)  # many more departments, appropriations, projects, ledger rows
    large = _count(app, client, url)
    assert small >= 3  # the listener sees the page's statements
    if path == "/dashboard":
        # the latest actions load names with one query per kind of object they touch:
        # bounded by the kinds, and here the larger data's latest actions touch fewer
        assert large <= small, f"{url}: {small} queries with little data, {large} with more"
    else:
        assert large == small, f"{url}: {small} queries with little data, {large} with more"
