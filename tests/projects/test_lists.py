"""The project list (procure.listing): filters, search, sort and paging; ignored junk
with a message; the export equals the page; each department's officer sees only its own;
the query count does not grow with the data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from procure.roles import Role
from tests.listhelp import assert_export_matches, export_table, page_ids, page_table
from tests.querycount import page_statements

from ..conftest import login


@pytest.fixture()
def world(make, db):
    own, other = make.user(Role.OFFICER), make.user(Role.OFFICER)
    cat = make.category("养老服务")
    appr = make.appropriation(own.department, "9000000.00", year=2026)
    p = {}
    for i, ceiling in enumerate(("30000.00", "10000.00", "20000.00", "40000.00")):
        p[i] = make.project(own, ceiling=ceiling, year=2026 if i < 3 else 2025, category=cat, title=f"本部门项目{i}")
    p["approved"] = make.approved_project(own, appr, "5000.00", ceiling="50000.00", title="已批复项目")
    p["other"] = make.project(other, ceiling="77000.00", title="别的部门项目")
    fin = make.finance()
    make.commit()
    return {"own": own, "other": other, "fin": fin, "cat": cat}, p


def test_filter_sort_page(client, world):
    users, p = world
    login(client, users["own"].username)
    html = client.get("/projects/?year=2026&state=draft&sort=budget_ceiling&dir=asc").get_data(as_text=True)
    assert page_ids(html, "projects", "project") == [p[1].id, p[2].id, p[0].id]
    html = client.get("/projects/?year=2026&state=draft&sort=budget_ceiling&dir=desc&per_page=2&page=2"
                      ).get_data(as_text=True)
    assert page_ids(html, "projects", "project") == [p[1].id]
    _h, _rows, foot = page_table(html, "projects")
    assert "60,000.00" in foot[5]  # the total is over the whole filtered set, not the page
    assert "sort=budget_ceiling" in html and "dir=desc" in html  # the pager keeps the order
    html = client.get("/projects/?q=已批复").get_data(as_text=True)
    assert page_ids(html, "projects", "project") == [p["approved"].id]
    # the header links sort, keeping the filters
    from urllib.parse import parse_qs, urlsplit

    import lxml.html

    doc = lxml.html.fromstring(client.get("/projects/?year=2026&state=draft").get_data(as_text=True))
    href = doc.xpath('//th/a[@data-sort="title"]/@href')[0]
    assert parse_qs(urlsplit(href).query) == {"year": ["2026"], "state": ["draft"], "sort": ["title"], "dir": ["asc"]}


@pytest.mark.parametrize("query", ["page=abc&sort=../../x", "sort=%E9%A1%B9&dir=up", "state=zzz&year=abc",
                                   "department=99999999999999&category=-1", "q=" + "长" * 500,
                                   "per_page=0&page=99999999999999999999", "q=%25_%5C"])
def test_bad_arguments_give_a_message(client, world, query):
    users, _p = world
    login(client, users["own"].username)
    resp = client.get(f"/projects/?{query}")
    assert resp.status_code == 200
    exp = client.get(f"/projects/?{query}&export=xlsx")
    assert exp.status_code == 200


def test_bad_arguments_are_explained(client, world):
    users, _p = world
    login(client, users["own"].username)
    html = client.get("/projects/?sort=../../x&state=zzz").get_data(as_text=True)
    assert html.count("list-message") == 2
    assert client.get("/projects/?q=%00").status_code == 400


def test_export_equals_the_page(client, world):
    users, p = world
    login(client, users["fin"].username)
    header, rows = assert_export_matches(client, "/projects/?year=2026&sort=budget_ceiling&dir=desc&per_page=200",
                                         "projects")
    assert [r[0] for r in rows] == ["别的部门项目", "已批复项目", "本部门项目0", "本部门项目2", "本部门项目1"]
    assert Decimal(str(rows[1][6])) == Decimal("5000")  # allocated, from the per-row extras
    assert_export_matches(client, "/projects/?q=本部门&per_page=200", "projects")


def test_export_keeps_the_permission(app, client, world):
    users, _p = world
    login(client, users["own"].username)
    _header, rows, totals, _above = export_table(client.get("/projects/?export=xlsx").data)
    names = [r[0] for r in rows]
    assert "别的部门项目" not in names and len(names) == 5
    assert Decimal(str(totals[5])) == Decimal("150000")
    other = app.test_client()
    login(other, users["other"].username)
    _header, rows, _totals, _above = export_table(other.get("/projects/?export=xlsx").data)
    assert [r[0] for r in rows] == ["别的部门项目"]


def _grow(make, officer, n):
    cat = make.category()
    appr = make.appropriation(officer.department, "9000000.00", year=2026, source="central")
    for i in range(n):
        make.approved_project(officer, appr, "100.00", ceiling="1000.00", category=cat, title=f"增长项目{n}-{i}")
    make.commit()


@pytest.mark.parametrize("url", ["/projects/", "/projects/?q=项目&sort=allocated&dir=desc&state=approved",
                                 "/projects/?export=xlsx&sort=department"])
def test_query_count_constant(app, client, make, world, url):
    users, _p = world
    login(client, users["own"].username)
    client.get(url)
    small = page_statements(app, client, url)
    _grow(make, users["own"], 30)
    client.get(url)  # the filters' choices read again after the writes (procure.refcache), as before ``small``
    large = page_statements(app, client, url)
    assert small == large, (small, large)


def test_export_text_is_never_a_formula(client, make, world):
    users, _p = world
    make.project(users["own"], title="=HYPERLINK(\"http://x\",\"点此\")")
    make.commit()
    login(client, users["own"].username)
    from io import BytesIO

    from openpyxl import load_workbook

    ws = load_workbook(BytesIO(client.get("/projects/?q=HYPERLINK&export=xlsx").data)).active
    cell = ws.cell(row=6, column=1)
    assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s"
