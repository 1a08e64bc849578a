"""Report pages and downloads (commands in ``cli.py``)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import nav, pagecache
from ..auth.models import Department
from ..budgets import services as budget
from ..budgets.queries import default_year, fiscal_years
from ..errors import DomainError
from ..extensions import db
from ..jobs.models import Job, JobState
from ..organizations.models import KIND_LABELS, OrgKind
from ..parsing import check_fiscal_year, fiscal_year_arg, page_arg, parse_id
from ..permissions import can, require
from ..web import ServiceFailed, perform, require_view
from . import services
from .execution import budget_execution as compute_execution
from .execution import project_lines
from .summary import program_summary
from .xlsx import budget_execution_xlsx, program_summary_xlsx

bp = Blueprint("reports", __name__, url_prefix="/reports")

nav.register(nav.NavItem(_l("Budget execution"), "reports.budget_execution", "report.view",
                         group=nav.FUNDS_GROUP, order=22))
nav.register(nav.NavItem(_l("Program summary"), "reports.program_summary_page", "report.view",
                         group=nav.FUNDS_GROUP, order=23))


@bp.before_request
@login_required
def _signed_in():
    """Every report needs a signed-in user (each view checks its permission)."""


def _int_arg(name: str) -> int | None:
    """A number from the query string; None (the default applies) for junk or a number
    too large for the database, never a 500."""
    return parse_id(request.args.get(name))


def _filters() -> tuple[int, int | None, int | None]:
    return fiscal_year_arg(default_year), _int_arg("source"), _int_arg("department")


def execution_report(user, year: int, source_id: int | None = None, department_id: int | None = None, *,
                     with_projects: bool = True):
    """The report for ``user`` (finance and admin only)."""
    require(user, "report.view")
    return compute_execution(year, source_id, department_id, with_projects=with_projects)


def _open_group() -> tuple[int, int] | None:
    """The group whose project lines the page shows (?open=<source id>-<department id>)."""
    sid, _sep, did = request.args.get("open", "").partition("-")
    sid, did = parse_id(sid), parse_id(did)
    return (sid, did) if sid and did else None


def _own_job(kind: str) -> Job | None:
    """The job named by ?job= if it is of ``kind`` and the user may follow it."""
    job = db.session.get(Job, _int_arg("job")) if _int_arg("job") else None
    if job is None or job.kind != kind or not can(current_user, "job.view", job):
        return None
    return job


@bp.route("/budget-execution")
@pagecache.cached
def budget_execution():
    require_view("report.view")
    year, source_id, dep_id = _filters()
    # The groups only (SQL GROUP BY); project lines on demand, one page at a time: the
    # page's work does not grow with the number of projects (the xlsx and PDF keep every row).
    report = execution_report(current_user, year, source_id, dep_id, with_projects=False)
    opened, q = _open_group(), request.args.get("q", "").strip()[:100]
    lines = None
    if opened and (not source_id or opened[0] == source_id) and (not dep_id or opened[1] == dep_id):
        lines = project_lines(year, *opened, q=q or None, page=page_arg())
    elif q:
        lines = project_lines(year, source_id, dep_id, q=q, page=page_arg())
    job = _own_job(services.EXECUTION_PDF)
    recent = db.session.scalars(select(Job).where(Job.kind == services.EXECUTION_PDF, Job.state == JobState.DONE)
                                .order_by(Job.id.desc()).limit(5)).all()
    return render_template("reports/budget_execution.html", report=report, years=fiscal_years(), recent=recent,
                           opened=opened, q=q, lines=lines,
                           sources=budget.funding_sources(), chart=services.execution_chart(report), job=job,
                           departments=db.session.scalars(select(Department).order_by(Department.name)).all())


@bp.route("/budget-execution/pdf", methods=["POST"])
def budget_execution_pdf():
    """Queue the PDF; the page then shows the job's progress and the download link."""
    require_view("report.view")
    year, source_id, dep_id = (request.form.get("year", ""), request.form.get("source") or None,
                               request.form.get("department") or None)
    try:
        job = perform(services.request_execution_pdf, current_user, year, source_id, dep_id)
    except ServiceFailed:
        return redirect(url_for("reports.budget_execution"))
    flash(_("The PDF is being generated."), "info")
    return redirect(url_for("reports.budget_execution", year=job.params["year"], source=job.params["source"] or "",
                            department=job.params["department"] or "", job=job.id))


@bp.route("/budget-execution.xlsx")
def budget_execution_xlsx_download():
    require_view("report.view")
    year, source_id, dep_id = _filters()
    report = execution_report(current_user, year, source_id, dep_id)
    return Response(budget_execution_xlsx(report, current_user),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="budget-execution-{year}.xlsx"'})


def _summary(user):
    require(user, "report.view")
    this = default_year()
    y_from, y_to = _int_arg("from") or this - 4, _int_arg("to") or this
    try:
        y_from, y_to = check_fiscal_year(y_from, "from"), check_fiscal_year(y_to, "to")
    except DomainError:
        y_from, y_to = this - 4, this
    if y_from > y_to:
        y_from, y_to = y_to, y_from
    return program_summary(y_from, y_to, _int_arg("category"))


@bp.route("/program-summary")
@pagecache.cached
def program_summary_page():
    require_view("report.view")
    summary = _summary(current_user)
    return render_template("reports/program_summary.html", s=summary, chart=services.summary_chart(summary),
                           kind_labels={k.value: KIND_LABELS[k] for k in OrgKind},
                           job=_own_job(services.SUMMARY_PDF))


@bp.route("/program-summary/pdf", methods=["POST"])
def program_summary_pdf():
    """Queue the PDF; the page then shows the job's progress and the download link."""
    require_view("report.view")
    try:
        job = perform(services.request_summary_pdf, current_user, request.form.get("from", ""),
                      request.form.get("to", ""))
    except ServiceFailed:
        return redirect(url_for("reports.program_summary_page"))
    flash(_("The PDF is being generated."), "info")
    return redirect(url_for("reports.program_summary_page", job=job.id,
                            **{"from": job.params["from"], "to": job.params["to"]}))


@bp.route("/program-summary.xlsx")
def program_summary_xlsx_download():
    require_view("report.view")
    summary = _summary(current_user)
    return Response(program_summary_xlsx(summary, current_user),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition":
                             f'attachment; filename="program-summary-{summary.year_from}-{summary.year_to}.xlsx"'})
