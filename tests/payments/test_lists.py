"""The payments list (procure.listing): tabs with filters, search, sort and paging;
junk ignored with a message; the export equals the page and keeps the permission (an
officer sees their department's payments, an organization its own); the query count does
not grow with the data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.listhelp import assert_export_matches, export_table, page_ids, page_table
from tests.querycount import page_statements

from ..conftest import login
from .conftest import world as payment_world


@pytest.fixture()
def two(make, db):
    a = payment_world(make, db, approved=(0, 1), passed=True)  # 18,000 + 24,000 + 18,000
    b = payment_world(make, db, price="50000.00", approved=(0,))  # 15,000, another department
    return a, b


def _ids(html):
    return page_ids(html, "payments", "payment")


def test_filter_sort_page(client, two):
    a, b = two
    login(client, a.fin1.username)
    html = client.get("/payments/?tab=all&sort=amount&dir=desc&per_page=2").get_data(as_text=True)
    ids = _ids(html)
    assert len(ids) == 2
    _heads, rows, foot = page_table(html, "payments")
    assert "24,000.00" in rows[0][-1] and "75,000.00" in foot[-1]  # totals: every match, not the page
    html2 = client.get("/payments/?tab=all&sort=amount&dir=desc&per_page=2&page=2").get_data(as_text=True)
    assert len(_ids(html2)) == 2 and not set(ids) & set(_ids(html2))
    html = client.get(f"/payments/?tab=all&q={b.contract.number}").get_data(as_text=True)
    _heads, rows, foot = page_table(html, "payments")
    assert len(rows) == 1 and "15,000.00" in foot[-1]
    html = client.get(f"/payments/?tab=all&department={b.officer.department_id}").get_data(as_text=True)
    assert len(_ids(html)) == 1
    # the tab is kept by the filter form, the sort headers and the export button
    from urllib.parse import parse_qs, urlsplit

    import lxml.html

    href = lxml.html.fromstring(html).get_element_by_id("payments-export").get("href")
    assert parse_qs(urlsplit(href).query) == {"tab": ["all"], "department": [str(b.officer.department_id)],
                                               "export": ["xlsx"]}
    assert 'name="tab" value="all"' in html


@pytest.mark.parametrize("query", ["page=abc&sort=../../x", "tab=zzz&state=nope&from=2026-13-45&to=x",
                                   "department=abc&dir=sideways", "q=" + "%" * 300])
def test_bad_arguments(client, two, query):
    a, _b = two
    login(client, a.fin1.username)
    resp = client.get(f"/payments/?{query}")
    assert resp.status_code == 200
    if "sort=../" in query or "state=nope" in query or "dir=side" in query:
        assert "list-message" in resp.get_data(as_text=True)
    assert client.get(f"/payments/?{query}&export=xlsx").status_code == 200


def test_export_equals_the_page(client, two):
    a, _b = two
    login(client, a.fin1.username)
    _header, rows = assert_export_matches(client, "/payments/?tab=all&sort=amount&dir=asc&per_page=200", "payments")
    assert [Decimal(str(r[-1])) for r in rows] == [Decimal(x) for x in ("15000", "18000", "18000", "24000")]
    assert_export_matches(client, f"/payments/?tab=all&q={a.contract.number}&sort=organization&per_page=200",
                          "payments")


def test_export_keeps_the_permission(app, client, two):
    a, b = two
    for user, number, count in ((a.officer, a.contract.number, 3), (b.org_user, b.contract.number, 1)):
        c = app.test_client()
        login(c, user.username)
        _header, rows, totals, _above = export_table(c.get("/payments/?tab=all&export=xlsx").data)
        assert len(rows) == count and {r[0] for r in rows} == {number}
        page = c.get("/payments/?tab=all").get_data(as_text=True)
        assert len(_ids(page)) == count


@pytest.mark.parametrize("url", ["/payments/?tab=all", "/payments/?tab=all&sort=organization&q=合同",
                                 "/payments/?tab=all&export=xlsx"])
def test_query_count_constant(app, client, make, db, two, url):
    a, _b = two
    login(client, a.fin1.username)
    client.get(url)
    small = page_statements(app, client, url)
    for _ in range(3):
        payment_world(make, db, approved=(0, 1), passed=True)
    client.get(url)  # the filters' choices read again after the writes (procure.refcache), as before ``small``
    large = page_statements(app, client, url)
    assert small == large, (small, large)
