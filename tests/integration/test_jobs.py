"""A job end to end: a real Celery worker renders a PDF, stores it as a Document, and the
JSON endpoint reports it done with a download link that works."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from celery import shared_task
from pypdf import PdfReader

from procure.documents.services import store_document
from procure.extensions import db as _db
from procure.jobs import services
from procure.jobs.models import Job
from procure.pdf import render_pdf
from procure.roles import Role

from ..conftest import login
from .conftest import live_app, running_worker, wait_for

pytestmark = pytest.mark.integration

TASK = "tests.integration.render_sample_report"


def _build(job: Job):
    rows = [(f"项目{i}", Decimal(i * 1000)) for i in range(1, 4)]
    services.job_progress(job.id, 0, len(rows), "rendering")
    pdf = render_pdf("pdf/example.html", locale="zh_CN", title="预算执行情况表", subtitle=job.params["note"],
                     rows=rows)
    return store_document(job.requested_by, pdf, "预算执行情况表.pdf", "application/pdf", "budget_report",
                          obj=job, permission="job.view")


@shared_task(name=TASK)
def render_sample_report(job_id: int) -> str:
    """Test-only task, thin as a real one."""
    return services.run_job(job_id, _build)


def test_a_worker_runs_a_pdf_job_and_the_endpoint_offers_the_download(db, make, tmp_path, monkeypatch):
    user = make.user(Role.FINANCE, locale="en")
    make.commit()
    app = live_app(mail_port=1)
    app.config["DOCUMENTS_DIR"] = str(tmp_path / "documents")
    monkeypatch.setitem(services.TASK_FOR_KIND, "sample.report", TASK)
    client = app.test_client()
    login(client, user.username)
    with running_worker(app), app.app_context():
        job = services.create_job(user.id, "sample.report", {"note": "社会组织孵化基地"})
        _db.session.commit()  # the task is sent after this commit
        job_id = job.id

        def final_status():
            body = client.get(f"/jobs/{job_id}", headers={"Accept": "application/json"}).json
            return body if body["is_final"] else None

        body = wait_for(final_status, timeout=30)
    assert body["state"] == "done", body
    assert body["percent"] == 100 and body["total"] == 3 and body["done"] == 3
    resp = client.get(body["download_url"])
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    assert "预算执行情况表" in text and "社会组织孵化基地" in text and "¥3,000.00" in text
    # Someone else may not see the job or its file.
    other = make.user(Role.FINANCE)
    make.commit()
    stranger = app.test_client()
    login(stranger, other.username)
    assert stranger.get(f"/jobs/{job_id}", headers={"Accept": "application/json"}).status_code == 403
    assert stranger.get(body["download_url"]).status_code == 403
