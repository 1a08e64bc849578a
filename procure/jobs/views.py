"""Job progress: a JSON endpoint the progress macro polls, and a page that shows it;
and the answer to a list export too large for the request (procure.listing): a job,
then its progress page."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import listing
from ..extensions import db
from ..permissions import require
from ..web import ServiceFailed, perform, safe_next
from . import exports, services
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
    # ?next= the page the job was asked from (a list whose export this is), if local.
    return render_template("jobs/progress.html", job=job, back=safe_next("") or None)


def export_as_job(export: listing.Export):
    """Queue the export (committed; the task is sent after the commit) and show its
    progress page, where the file is downloaded when it is written (with a link back to
    the list)."""
    args = {k: v for k, v in request.args.items() if k != "export"}
    page = url_for(request.endpoint, **(request.view_args or {}), **args)
    try:
        job = perform(exports.request_list_export, current_user, export)
    except ServiceFailed:  # the message is flashed; back to the list
        return redirect(page)
    return redirect(url_for("jobs.progress", job_id=job.id, next=page))


listing.on_large_export(export_as_job)
