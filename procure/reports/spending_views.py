"""The project spending report (DOMAIN.md §7): the page with its chart, the xlsx, and the
PDF rendered by a worker (the page shows its progress). Staff of the project's
department, finance and admin; an organization for its own contract's project."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import pagecache
from ..delivery.spending import may_view_project, project_spending, spending_chart
from ..extensions import db
from ..jobs.models import Job
from ..parsing import parse_id
from ..permissions import can
from ..projects.models import Project
from ..web import ServiceFailed, perform
from . import spending as rs

bp = Blueprint("project_spending", __name__, url_prefix="/reports/project-spending")

@bp.before_request
@login_required
def _signed_in():
    """Every page needs a signed-in user (each view checks the project)."""

def _project(project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None:
        abort(404)
    if not may_view_project(current_user, project):
        abort(403)
    return project

def _own_job(project: Project) -> Job | None:
    job_id = parse_id(request.args.get("job"))
    job = db.session.get(Job, job_id) if job_id else None
    if job is None or job.kind != rs.SPENDING_PDF or job.params.get("project") != project.id \
            or not can(current_user, "job.view", job):
        return None
    return job

@bp.route("/<int:project_id>")
@pagecache.cached
def page(project_id: int):
    project = _project(project_id)
    report = project_spending(project)
    return render_template("spending/project.html", report=report, chart=spending_chart(report),
                           generated=rs.generated_text(report), unit_line=rs.UNIT_LINE, job=_own_job(project))

@bp.route("/<int:project_id>.xlsx")
def xlsx(project_id: int):
    report = project_spending(_project(project_id))
    return Response(rs.spending_xlsx(report, current_user),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="project-spending-{project_id}.xlsx"'})

@bp.route("/<int:project_id>/pdf", methods=["POST"])
def pdf(project_id: int):
    """Queue the PDF; the page then shows the job's progress and the download link."""
    project = _project(project_id)
    try:
        job = perform(rs.request_spending_pdf, current_user, project)
    except ServiceFailed:
        return redirect(url_for("project_spending.page", project_id=project_id))
    flash(_("The PDF is being generated."), "info")
    return redirect(url_for("project_spending.page", project_id=project_id, job=job.id))
