"""Registry journeys in the real browser: an officer imports a registry file with a bad
row, sees the row's error, fixes the file and imports it; an organization's user sees its
reminder in the app and opens it."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from procure.organizations import services as registry
from procure.reminders import engine
from procure.roles import Role

from ..factories import Factory
from ..organizations.test_import import SAMPLE

pytestmark = pytest.mark.browser


def _sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(Factory.PASSWORD)
    page.locator("#submit").click()
    page.wait_for_url(f"{base}/dashboard")


def _file(tmp_path, fix: bool):
    with open(SAMPLE, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    good = rows[4][2]
    if not fix:
        rows[4][2] = good[:-1] + ("0" if good[-1] != "0" else "1")  # line 5: a mistyped code
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path = tmp_path / "registry-export.csv"
    path.write_bytes(buf.getvalue().encode("gb18030"))
    return path


def test_officer_imports_a_file_with_a_bad_row_then_the_fixed_file(page: Page, live_server, make, db, tmp_path,
                                                                      artifacts):
    page.set_default_timeout(8000)
    officer = make.user(Role.OFFICER, locale="en")
    make.commit()
    _sign_in(page, live_server, officer.username)
    page.goto(f"{live_server}/organizations/")
    page.get_by_role("link", name="Import registry file").click()
    page.locator("#file").set_input_files(str(_file(tmp_path, fix=False)))
    page.locator("#submit").click()
    errors = page.locator("#import-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first.locator("td").first).to_have_text("5")
    expect(errors.first).to_contain_text("check character")
    expect(page.locator(".alert-danger")).to_contain_text("Nothing was imported")
    page.screenshot(path=str(artifacts / "registry-import-bad-row.png"), full_page=True)

    page.locator("#file").set_input_files(str(_file(tmp_path, fix=True)))
    page.locator("#submit").click()
    expect(page.locator("#import-summary")).to_contain_text("30 new")
    page.goto(f"{live_server}/organizations/?q=51500105MJTH3BJ13E")
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody")).to_contain_text("51500105MJTH3BJ13E")


def test_org_user_sees_its_reminder(page: Page, live_server, make, db, app, artifacts):
    page.set_default_timeout(8000)
    org = make.organization("提醒测试协会", with_code=True, registration_date=date(2020, 1, 1))
    user = make.user(Role.ORG, organization=org, locale="en")
    make.commit()
    with app.test_request_context():
        engine.scan(date(2026, 5, 24))  # the 2025 annual report is due in 7 days
        db.session.commit()
    _sign_in(page, live_server, user.username)
    expect(page.get_by_text("Unread notices")).to_be_visible()
    page.get_by_role("link", name="Notices", exact=True).click()
    notice = page.locator("#notices tbody tr").first
    expect(notice).to_contain_text("The annual report for 2025 of 提醒测试协会 is due by May 31, 2026.")
    page.screenshot(path=str(artifacts / "registry-notice.png"), full_page=True)
    notice.get_by_role("button", name="Open").click()
    page.wait_for_url(f"{live_server}/organizations/{org.id}")
    expect(page.locator("#eligibility")).to_contain_text("annual report for 2025")
    assert registry.last_due_year(date(2026, 6, 1)) == 2025


def test_large_file_progress_page(page: Page, live_server, make, db, app, tmp_path, monkeypatch):
    """A file over the worker threshold becomes an import job: its page shows the job's
    progress (the generic job macro, polling /jobs/<id>) while it waits, and the
    import's result once the worker has run it."""
    from procure import dispatch
    from procure.jobs.models import Job
    from procure.jobs.services import run_job
    from procure.organizations import importer

    monkeypatch.setattr(importer, "WORKER_THRESHOLD", 5)
    monkeypatch.setattr(dispatch, "send", lambda name, *args: None)  # the worker is late
    page.set_default_timeout(8000)
    officer = make.user(Role.OFFICER, locale="en")
    make.commit()
    _sign_in(page, live_server, officer.username)
    page.goto(f"{live_server}/organizations/import")
    page.locator("#file").set_input_files(str(_file(tmp_path, fix=True)))
    page.locator("#submit").click()
    page.wait_for_url(f"{live_server}/organizations/import/*")
    box = page.locator(".job-progress")
    expect(box.locator(".job-state")).to_have_text("Waiting")
    expect(page.locator("#import-summary")).to_have_count(0)

    job_id = db.session.scalar(sa.select(Job.id))
    assert run_job(job_id, importer.run_import_job) == "done"  # what the worker does
    expect(page.locator("#import-summary")).to_contain_text("Imported: 30 new")  # the page reloaded
    expect(box.locator(".job-state")).to_have_text("Done")


def test_progress_page_poll_survives_failed_polls(page: Page, live_server, make, db, tmp_path, monkeypatch):
    """The first two polls fail (a busy server answers 503): the page tries again, with
    backoff, and shows the result instead of stopping for good."""
    from procure import dispatch
    from procure.jobs.models import Job
    from procure.jobs.services import run_job
    from procure.organizations import importer

    monkeypatch.setattr(importer, "WORKER_THRESHOLD", 5)
    monkeypatch.setattr(dispatch, "send", lambda name, *args: None)  # the worker is late
    page.set_default_timeout(15000)
    officer = make.user(Role.OFFICER, locale="en")
    make.commit()
    _sign_in(page, live_server, officer.username)
    failed = []

    def flaky(route):
        if len(failed) < 2:
            failed.append(route.request.url)
            route.fulfill(status=503, body="busy")
        else:
            route.continue_()

    page.route(re.compile(r".*/jobs/\d+$"), flaky)
    page.goto(f"{live_server}/organizations/import")
    page.locator("#file").set_input_files(str(_file(tmp_path, fix=True)))
    page.locator("#submit").click()
    page.wait_for_url(f"{live_server}/organizations/import/*")
    for _ in range(150):  # the page keeps polling through the two failures
        if len(failed) >= 2:
            break
        page.wait_for_timeout(100)
    assert len(failed) == 2
    job_id = db.session.scalar(sa.select(Job.id))
    assert run_job(job_id, importer.run_import_job) == "done"  # what the worker does
    expect(page.locator("#import-summary")).to_contain_text("Imported: 30 new")
