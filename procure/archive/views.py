"""The archive (staff): closed projects with search, year filter and paging; each with its
record (retention date) and documents; the officer's list of projects ready to close and
the close action."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import nav, pagecache
from ..extensions import db
from ..parsing import page_arg, parse_year
from ..permissions import can
from ..projects.models import Project
from ..web import ServiceFailed, perform, require_view
from . import services
from .models import BASIS_LABELS

bp = Blueprint("archive", __name__, url_prefix="/archive")

nav.register(nav.NavItem(_l("Archive"), "archive.index", "archive.view", group=nav.PROCUREMENT_GROUP, order=36))


@bp.before_request
@login_required
def _signed_in():
    """Every archive page needs a signed-in user (each view checks its permission)."""


@bp.route("/")
@pagecache.cached
def index():
    require_view("archive.view")
    q = request.args.get("q", "").strip()[:100]
    year = parse_year(request.args.get("year"))
    page = services.archive_page(current_user, q or None, year, page_arg())
    years = db.session.scalars(select(Project.fiscal_year).where(Project.state == "closed").distinct()
                               .order_by(Project.fiscal_year.desc())).all()
    return render_template("archive/index.html", page=page, q=q, year=year, years=years,
                           ready=services.ready_to_close(current_user), basis_labels=BASIS_LABELS)


@bp.route("/<int:project_id>")
@pagecache.cached
def detail(project_id: int):
    project = db.session.get(Project, project_id)
    if project is None:
        abort(404)
    require_view("archive.view", project)
    record = db.session.scalar(select(services.ArchiveRecord).where(services.ArchiveRecord.project_id == project.id))
    if record is None:
        abort(404)
    return render_template("archive/detail.html", project=project, record=record,
                           documents=services.project_documents(project), roles=services.DOC_ROLES,
                           basis_labels=BASIS_LABELS)


@bp.route("/<int:project_id>/close", methods=["POST"])
def close(project_id: int):
    project = db.session.get(Project, project_id)
    if project is None:
        abort(404)
    if not can(current_user, "project.close", project):
        abort(403)
    try:
        perform(services.close_project, current_user, project, request.form.get("note"))
    except ServiceFailed:
        return redirect(url_for("archive.index"))
    flash(_("The project is closed and archived."), "success")
    return redirect(url_for("archive.detail", project_id=project_id))
