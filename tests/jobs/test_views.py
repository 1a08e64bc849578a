"""GET /jobs/<id> (JSON) and /jobs/<id>/progress: requester or admin only."""

from __future__ import annotations

import pytest

from procure.documents.services import store_document
from procure.jobs import services
from procure.jobs.models import JobState
from procure.roles import Role
from procure.timeutil import utcnow

from ..conftest import login

JSON = {"Accept": "application/json"}


@pytest.fixture()
def job(db, make, tmp_path, app, monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENTS_DIR", str(tmp_path / "documents"))
    owner = make.user(Role.FINANCE, locale="en")
    job = services.create_job(owner, "k", {"year": 2026})  # a kind without a task: stays queued
    make.commit()
    return job


@pytest.mark.parametrize("who, status", [
    ("owner", 200), ("admin", 200), (Role.FINANCE, 403), (Role.OFFICER, 403), (Role.ORG, 403), (Role.EVALUATOR, 403),
])
def test_status_access(client, make, job, who, status):
    user = {"owner": job.requested_by, "admin": make.admin()}.get(who) or make.user(who)
    make.commit()
    login(client, user.username)
    resp = client.get(f"/jobs/{job.id}", headers=JSON)
    assert resp.status_code == status
    assert resp.is_json
    assert client.get(f"/jobs/{job.id}/progress").status_code == status


def test_anonymous_gets_401_json(client, job):
    resp = client.get(f"/jobs/{job.id}", headers=JSON)
    assert resp.status_code == 401 and resp.json["error"] == "unauthorized"
    assert client.get(f"/jobs/{job.id}").status_code in (302, 401)


def test_status_body_while_running_and_when_done(client, db, make, job):
    login(client, job.requested_by.username)
    body = client.get(f"/jobs/{job.id}", headers=JSON).json
    assert body["state"] == "queued" and body["percent"] == 0 and body["download_url"] is None
    assert body["is_final"] is False and body["state_label"]

    job.state, job.progress_done, job.progress_total, job.message = JobState.RUNNING, 2, 8, "2/8"
    make.commit()
    body = client.get(f"/jobs/{job.id}", headers=JSON).json
    got = (body["state"], body["done"], body["total"], body["percent"], body["message"])
    assert got == ("running", 2, 8, 25, "2/8")

    doc = store_document(job.requested_by, b"%PDF-1.7 r", "r.pdf", "application/pdf", "report", obj=job,
                         permission="job.view")
    job.state, job.result_document_id, job.finished_at = JobState.DONE, doc.id, utcnow()
    make.commit()
    body = client.get(f"/jobs/{job.id}", headers=JSON).json
    assert body["percent"] == 100 and body["is_final"] and body["download_url"] == f"/documents/{doc.id}"
    assert client.get(body["download_url"]).data == b"%PDF-1.7 r"


def test_progress_page_renders_the_polling_macro(client, job):
    login(client, job.requested_by.username)
    html = client.get(f"/jobs/{job.id}/progress").get_data(as_text=True)
    assert f'data-status-url="/jobs/{job.id}"' in html and 'class="progress"' in html
    assert "<script>" in html and "fetch(" in html and "cdn" not in html.lower()


def test_unknown_job_is_404(client, job):
    login(client, job.requested_by.username)
    assert client.get("/jobs/999999", headers=JSON).status_code == 404
