"""A list in the real browser: finance filters the payments by search, sorts by amount
with a header click, and downloads the export, which holds the rows on the page in the
same order (screenshots at 1366 px and 390 px are saved and looked at)."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from ..payments.conftest import world as payment_world
from .test_registry import _sign_in

pytestmark = pytest.mark.browser


def test_payments_list_sort_filter_export(page: Page, live_server, make, db, artifacts):
    a = payment_world(make, db, approved=(0, 1), passed=True)
    payment_world(make, db, price="50000.00", approved=(0,))
    make.commit()
    page.set_viewport_size({"width": 1366, "height": 900})
    _sign_in(page, live_server, a.fin1.username)
    page.goto(f"{live_server}/payments/?tab=all")
    expect(page.locator("#payments tbody tr")).to_have_count(4)
    page.locator('#payments th a[data-sort="amount"]').click()
    page.wait_for_url("**sort=amount**")
    amounts = page.locator("#payments tbody tr td:last-child").all_inner_texts()
    assert [Decimal(t.replace("¥", "").replace(",", "")) for t in amounts] == sorted(
        Decimal(t.replace("¥", "").replace(",", "")) for t in amounts)
    page.locator('#payments-filters input[name="q"]').fill(a.contract.number)
    page.locator("#payments-filters button").click()
    expect(page.locator("#payments tbody tr")).to_have_count(3)
    expect(page.locator("#payments-total")).to_contain_text("60,000.00")
    page.screenshot(path=str(artifacts / "lists-payments-1366.png"), full_page=True)
    with page.expect_download() as info:
        page.locator("#payments-export").click()
    ws = load_workbook(BytesIO(open(info.value.path(), "rb").read())).active
    rows = [r for r in ws.iter_rows(min_row=6, values_only=True)]
    assert [r[0] for r in rows[:-1]] == [a.contract.number] * 3
    assert Decimal(str(rows[-1][-1])) == Decimal("60000")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(artifacts / "lists-payments-390.png"), full_page=True)


def test_a_large_export_goes_through_its_progress_page(page: Page, app, make, db, artifacts, tmp_path, monkeypatch):
    """Above EXPORT_INLINE_MAX_ROWS (0 here) the export link leads to the job's progress
    page (the job runs at once: eager tasks), which offers the file and a way back."""
    from procure import create_app

    from ..conftest import app_config
    from .conftest import serving

    a = payment_world(make, db, approved=(0, 1), passed=True)
    make.commit()
    docs = str(tmp_path / "documents")
    monkeypatch.setitem(app.config, "DOCUMENTS_DIR", docs)  # the eager task runs in the test's app
    live = create_app("testing", **app_config(WTF_CSRF_ENABLED=True, EXPORT_INLINE_MAX_ROWS=0, DOCUMENTS_DIR=docs))
    with serving(app, live) as url:
        page.set_viewport_size({"width": 1366, "height": 900})
        _sign_in(page, url, a.fin1.username)
        page.goto(f"{url}/payments/?tab=all&sort=amount&dir=desc")
        page.locator("#payments-export").click()
        page.wait_for_url("**/jobs/*/progress**")
        link = page.locator(".job-download")
        expect(link).to_be_visible()
        expect(page.locator("#job-back")).to_have_attribute("href", "/payments/?tab=all&sort=amount&dir=desc")
        page.screenshot(path=str(artifacts / "lists-export-job-1366.png"), full_page=True)
        with page.expect_download() as info:
            link.click()
        ws = load_workbook(BytesIO(open(info.value.path(), "rb").read())).active
        rows = [r for r in ws.iter_rows(min_row=6, values_only=True)]
        amounts = [Decimal(str(r[-1])) for r in rows[:-1]]
        assert len(amounts) == 3 and amounts == sorted(amounts, reverse=True)
        page.locator("#job-back").click()
        expect(page.locator("#payments tbody tr")).to_have_count(3)
