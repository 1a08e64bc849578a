"""The job_progress macro in a real browser: the bar follows the job by polling and the
download link appears when it is done."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from procure.documents.services import store_document
from procure.jobs import services
from procure.jobs.models import Job, JobState
from procure.roles import Role
from procure.timeutil import utcnow

from ..factories import Factory

pytestmark = pytest.mark.browser


def test_progress_bar_polls_until_the_download_link_shows(page: Page, live_server, make, db, app, tmp_path,
                                                           monkeypatch, artifacts):
    monkeypatch.setitem(app.config, "DOCUMENTS_DIR", str(tmp_path / "documents"))
    page.set_default_timeout(8000)
    user = make.user(Role.FINANCE, locale="en")
    job = services.create_job(user, "sample.report")
    make.commit()
    job_id, username = job.id, user.username

    page.goto(f"{live_server}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(Factory.PASSWORD)
    page.locator("#submit").click()
    page.goto(f"{live_server}/jobs/{job_id}/progress")
    box = page.locator(f"#job-{job_id}")
    expect(box.locator(".progress-bar")).to_have_text("0%")
    expect(box.locator(".job-download")).to_be_hidden()

    job = db.session.get(Job, job_id)
    job.state, job.progress_done, job.progress_total, job.message = JobState.RUNNING, 1, 4, "1 of 4 parts"
    make.commit()
    expect(box.locator(".progress-bar")).to_have_text("25%")
    expect(box.locator(".job-message")).to_have_text("1 of 4 parts")

    job = db.session.get(Job, job_id)
    doc = store_document(job.requested_by, b"%PDF-1.7 done", "report.pdf", "application/pdf", "report",
                         obj=job, permission="job.view")
    job.state, job.result_document_id, job.finished_at = JobState.DONE, doc.id, utcnow()
    make.commit()
    link = box.locator(".job-download")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", f"/documents/{doc.id}")
    expect(box.locator(".progress-bar")).to_have_text("100%")
    expect(box).to_have_attribute("data-state", "done")
    expect(box.locator(".progress-bar")).to_have_attribute("style", re.compile(r"width: 100%"))
    page.wait_for_timeout(700)  # Bootstrap animates the width
    page.screenshot(path=str(artifacts / "job-progress-done.png"), full_page=True)
