"""Job progress: a JSON endpoint the progress macro polls, and a page that shows it."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..permissions import require
from . import services
from .models import Job, JobState

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


def _job_for_viewer(job_id: int) -> Job:
    job = db.get_or_404(Job, job_id)
    require(current_user, "job.view", job)  # requester or admin, else 403
    return job


@bp.route("/<int:job_id>")
@login_required
def status(job_id: int):
    """{state, state_label, done, total, percent, message, is_final, download_url}."""
    job = _job_for_viewer(job_id)
    body = services.status(job)
    body["download_url"] = (url_for("documents.download", doc_id=job.result_document_id)
                            if job.state == JobState.DONE and job.result_document_id else None)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:job_id>/progress")
@login_required
def progress(job_id: int):
    """A page with the job's progress bar (where a view may redirect after enqueuing)."""
    job = _job_for_viewer(job_id)
    return render_template("jobs/progress.html", job=job)
