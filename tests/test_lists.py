"""Every list built on procure.listing beyond projects and payments (those have their
own files): contracts, calls for bids, appropriations, milestone reports, incubation
bases, organizations (its search and query count: tests/organizations) — each filters,
sorts and pages; junk in the query string gives a message, never a 500; the export
equals the page (same rows, same order, same totals); the export shows no more than the
page to a user who sees part of the list."""

from __future__ import annotations

from datetime import date

import pytest

from procure.delivery.models import ReportState
from procure.organizations import bases
from procure.roles import Role
from tests.listhelp import assert_export_matches, export_table, page_ids

from .conftest import login
from .payments.conftest import report


@pytest.fixture()
def world(make, db):
    return lists_world(make, db)


def lists_world(make, db) -> dict:
    """Two contracts in force in two departments, a milestone report of each, two
    incubation bases, finance and admin (also the world of the export job's tests)."""
    off1, off2 = make.user(Role.OFFICER), make.user(Role.OFFICER)
    a = make.active_contract(officer=off1)
    b = make.active_contract(officer=off2, price="50000.00")
    r1 = report(db, a.contract, a.contract.milestones[0], off1, state=ReportState.SUBMITTED)
    r2 = report(db, b.contract, b.contract.milestones[0], off2)
    admin = make.admin()
    op1, op2 = a.org, b.org
    base1 = bases.create_base(admin, {"name": "渝中区社会组织孵化基地", "operator_id": op1.id, "area_sqm": 800,
                                      "address": "渝中区解放碑", "opened_on": date(2020, 5, 1)})
    base2 = bases.create_base(admin, {"name": "江北区公益创投园", "operator_id": op2.id, "area_sqm": 1200})
    bases.add_resident(admin, base1, make.organization("入驻组织甲"), date(2024, 1, 1))
    fin = make.finance()
    make.commit()
    return {"off1": off1, "off2": off2, "admin": admin, "fin": fin, "a": a, "b": b, "r1": r1, "r2": r2,
            "base1": base1, "base2": base2}


#: list → (url, table id, row attribute, a sortable column, who sees all of it)
LISTS = {
    "contracts": ("/contracts/", "contracts", "contract", "amount", "fin"),
    "tenders": ("/tenders/", "tenders", "tender", "title", "fin"),
    "appropriations": ("/budgets/appropriations?year=2026", "appropriations", "appropriation", "amount", "fin"),
    "reports": ("/milestone-reports/", "reports", "report", "organization", "fin"),
    "bases": ("/organizations/bases/", "bases", "base", "area_sqm", "admin"),
    "organizations": ("/organizations/", "organizations", "org", "name", "fin"),
}


def _q(url, extra):
    return f"{url}{'&' if '?' in url else '?'}{extra}"


@pytest.mark.parametrize("name", LISTS)
def test_sort_page_and_export(client, world, name):
    url, table, attr, key, who = LISTS[name]
    login(client, world[who].username)
    asc = page_ids(client.get(_q(url, f"sort={key}&dir=asc")).get_data(as_text=True), table, attr)
    desc = page_ids(client.get(_q(url, f"sort={key}&dir=desc")).get_data(as_text=True), table, attr)
    assert len(asc) >= 2 and set(asc) == set(desc) and asc != desc
    one = page_ids(client.get(_q(url, f"sort={key}&dir=asc&per_page=1&page=2")).get_data(as_text=True), table, attr)
    assert one == asc[1:2]
    for extra in (f"sort={key}&dir=desc&per_page=200", f"sort={key}&dir=asc&per_page=200", "per_page=200"):
        assert_export_matches(client, _q(url, extra), table)


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("junk", ["page=abc&sort=../../x", "sort=%E9%A1%B9&dir=up&state=zzz&department=x",
                                  "q=" + "%25" * 200, "per_page=-1&page=99999999999999999999999"])
def test_junk_gives_a_message(client, world, name, junk):
    url, table, _attr, _key, who = LISTS[name]
    login(client, world[who].username)
    resp = client.get(_q(url, junk))
    assert resp.status_code == 200
    if "sort=" in junk:
        assert "list-message" in resp.get_data(as_text=True)
    assert client.get(_q(url, junk + "&export=xlsx")).status_code == 200
    assert client.get(_q(url, "q=%00")).status_code == 400


def test_filters_and_search(client, world):
    login(client, world["fin"].username)
    a, b = world["a"], world["b"]
    ids = page_ids(client.get(f"/contracts/?q={b.contract.number}").get_data(as_text=True), "contracts", "contract")
    assert ids == [b.contract.id]
    ids = page_ids(client.get(f"/tenders/?department={a.officer.department_id}").get_data(as_text=True),
                   "tenders", "tender")
    assert ids == [a.tender.id]
    ids = page_ids(client.get("/milestone-reports/?state=submitted").get_data(as_text=True), "reports", "report")
    assert ids == [world["r1"].id]
    ids = page_ids(client.get(f"/budgets/appropriations?year=2026&department={b.officer.department_id}")
                   .get_data(as_text=True), "appropriations", "appropriation")
    assert ids == [b.appropriation.id]


def test_bases_search(app, world):
    c = app.test_client()
    login(c, world["admin"].username)
    ids = page_ids(c.get("/organizations/bases/?q=解放碑").get_data(as_text=True), "bases", "base")
    assert ids == [world["base1"].id]
    _h, rows, _t, _a = export_table(c.get("/organizations/bases/?sort=residents&dir=desc&export=xlsx").data)
    assert [r[0] for r in rows] == ["渝中区社会组织孵化基地", "江北区公益创投园"] and rows[0][-1] == 1


@pytest.mark.parametrize(("name", "user", "sees"), [
    ("contracts", "off1", "a"), ("contracts", "org_b", "b"), ("tenders", "off2", "b"),
    ("reports", "off1", "a"), ("reports", "org_b", "b"), ("bases", "org_a", "a")])
def test_export_shows_no_more_than_the_page(app, make, world, name, user, sees):
    url, table, attr, _key, _who = LISTS[name]
    people = {"off1": world["off1"], "off2": world["off2"], "org_a": world["a"].org_user,
              "org_b": world["b"].org_user}
    if name == "bases":
        url = "/organizations/bases/"
    c = app.test_client()
    login(c, people[user].username)
    html = c.get(url)
    expected = {"contracts": lambda w: w.contract.number, "tenders": lambda w: w.tender.title,
                "reports": lambda w: w.contract.milestones[0].title,
                "bases": lambda w: world["base1" if w is world["a"] else "base2"].name}[name](world[sees])
    if name == "bases":  # organization staff have no list of bases (base.list); their base page only
        assert html.status_code == 403 and c.get(url + "?export=xlsx").status_code == 403
        return
    assert html.status_code == 200 and len(page_ids(html.get_data(as_text=True), table, attr)) == 1
    _h, rows, _t, _a = export_table(c.get(url + "?export=xlsx").data)
    assert len(rows) == 1 and expected in [str(v) for v in rows[0]]


def test_appropriations_need_the_budget_role(app, world):
    c = app.test_client()
    login(c, world["off1"].username)
    assert c.get("/budgets/appropriations?export=xlsx").status_code == 403


def test_organization_filters_and_export(client, world, make):
    """The registry's own filters on the shared list: the page and its export agree, and
    the export holds only the filtered organizations."""
    from procure.organizations.models import OrgKind

    fund = make.organization("导出测试基金会", OrgKind.FOUNDATION, with_code=True, rating_level=4,
                             registration_authority="重庆市民政局")
    make.commit()
    login(client, world["fin"].username)
    for query in ("kind=foundation", "rating=4&authority=重庆市民政局", "q=导出测试", "rating=none&per_page=200",
                  f"base={world['base1'].id}"):
        url = f"/organizations/?{query}"
        ids = page_ids(client.get(url).get_data(as_text=True), "organizations", "org")
        if "base=" in query:  # the resident of base 1 only
            assert len(ids) == 1 and fund.id not in ids
        elif "none" in query:
            assert fund.id not in ids and ids
        else:
            assert ids == [fund.id]
        _header, rows = assert_export_matches(client, url, "organizations")
        assert len(rows) == len(ids)


def test_organizations_sort_by_credit_standing_by_gravity(client, world, make, db):
    from procure.organizations.models import CreditStanding

    serious = make.organization("严重失信测试会", with_code=True, credit_standing=CreditStanding.SERIOUS)
    abnormal = make.organization("异常名录测试会", with_code=True, credit_standing=CreditStanding.ABNORMAL)
    make.commit()
    login(client, world["fin"].username)
    ids = page_ids(client.get("/organizations/?sort=credit_standing&dir=desc").get_data(as_text=True),
                   "organizations", "org")
    assert ids[:2] == [serious.id, abnormal.id] and len(ids) > 2
