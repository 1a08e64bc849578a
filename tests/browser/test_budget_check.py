"""A finance officer in a real browser: approves a project's budget check, sees the
dashboard totals move, generates the PDF report, watches its progress and downloads it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from procure.projects import services as ps
from procure.roles import Role

from ..conftest import _redis_url, app_config
from ..factories import Factory
from ..integration.conftest import running_worker
from .conftest import serving

pytestmark = pytest.mark.browser


@pytest.fixture()
def live_server_with_worker(app, db, tmp_path):
    """Like ``live_server``, but the app's tasks go through Redis to a real Celery
    worker (not eager), so the page really waits for the PDF job."""
    from procure import create_app

    redis_url = _redis_url()
    live_app = create_app("testing", **app_config(
        WTF_CSRF_ENABLED=True, DOCUMENTS_DIR=str(tmp_path / "documents"),
        CELERY={"broker_url": redis_url, "result_backend": redis_url, "task_ignore_result": True,
                "broker_connection_retry_on_startup": True, "task_acks_late": True,
                "worker_prefetch_multiplier": 1}))
    with serving(app, live_app) as url, running_worker(live_app):
        yield url


def test_finance_approves_and_downloads_the_report(page: Page, live_server_with_worker, make, db, artifacts):
    live_server = live_server_with_worker
    page.set_default_timeout(30000)
    officer = make.user(Role.OFFICER)
    fin = make.finance()
    fin.locale = "en"
    appr = make.appropriation(officer.department, "500000.00", year=2026)
    make.approved_project(officer, appr, "100000.00", ceiling="100000.00", year=2026)
    project = make.project(officer, ceiling="80000.00", year=2026, title="社区居家养老服务")
    ps.submit_project(officer, project)
    make.commit()
    project_id, appr_id, username = project.id, appr.id, fin.username

    page.goto(f"{live_server}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(Factory.PASSWORD)
    page.locator("#submit").click()
    page.wait_for_url(f"{live_server}/dashboard")
    expect(page.locator('[data-queue="budget.check"] .count')).to_have_text("1")

    page.goto(f"{live_server}/budgets/?year=2026")
    expect(page.locator('[data-total="allocated"]')).to_have_text("10.00")  # 万元 (the unit line says so)
    expect(page.locator('[data-total="allocated"]')).to_have_attribute("title", "CN¥100,000.00")
    page.get_by_role("link", name="社区居家养老服务").click()
    page.wait_for_url(f"{live_server}/projects/{project_id}")

    form = page.locator("#budget-check")
    form.locator("#allocations-0-appropriation_id").select_option(str(appr_id))
    form.locator("#allocations-0-amount").fill("80000.01")
    form.locator("#submit").click()
    expect(page.locator("#allocation-error")).to_contain_text("budget ceiling")
    expect(page.locator("#allocations-0-amount")).to_have_value("80000.01")
    page.locator("#allocations-0-amount").fill("79999.99")
    page.locator("#budget-check #submit").click()
    expect(page.locator("#project-state")).to_have_text("Funds approved")

    page.goto(f"{live_server}/budgets/?year=2026")
    expect(page.locator('[data-total="allocated"]')).to_have_text("18.00")
    expect(page.locator('[data-total="allocated"]')).to_have_attribute("title", "CN¥179,999.99")
    expect(page.locator('[data-total="remaining"]')).to_have_attribute("title", "CN¥320,000.01")
    expect(page.locator("#totals-unit")).to_have_text("Unit: 10,000 yuan")
    page.screenshot(path=str(artifacts / "budgets-dashboard.png"), full_page=True)

    page.get_by_role("link", name="Budget execution report").first.click()
    page.locator("#generate-pdf").click()
    box = page.locator("#pdf-job .job-progress")
    expect(box).to_be_visible()
    expect(box).to_have_attribute("data-state", "done")  # the page polled until the worker finished
    expect(box.locator(".progress-bar")).to_have_text("100%")
    link = box.locator(".job-download")
    expect(link).to_be_visible()
    with page.expect_download() as info:
        link.click()
    path = info.value.path()
    with open(path, "rb") as fh:
        assert fh.read(4) == b"%PDF"
    page.screenshot(path=str(artifacts / "budget-report-ready.png"), full_page=True)
