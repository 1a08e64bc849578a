"""Milestone report pages: a contract's milestones with their status (overdue
included), the organization's report form (actuals, narrative, spending lines,
evidence), the report with its submitted versions, and the officer's review. Each page
offers only the actions its user may take now; the services check again."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from .. import audit, history, listing, nav, pagecache
from ..contracts import queries as contract_queries
from ..contracts.models import Contract, ContractState, Milestone
from ..extensions import db, login_manager
from ..parsing import parse_int
from ..permissions import can
from ..projects.views import project_part
from ..tenders.bidding import BREAKDOWN_CATEGORIES
from ..web import ServiceFailed, flash_done, perform, require_view
from . import services as ds
from .forms import ApproveForm, ReportForm, RevisionForm, SubmitReportForm
from .lists import REPORTS
from .models import MilestoneReport, ReportState, ReportSubmission

bp = Blueprint("delivery", __name__)

nav.register(nav.NavItem(_l("Milestone reports"), "delivery.reports", "milestone_report.view",
                         group=nav.PROCUREMENT_GROUP, order=33))
R = ReportState
#: Blank spending rows offered under the saved ones.
BLANK_ROWS = 5


@bp.before_request
def _signed_in():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _seen(form) -> int | None:
    """The revision the form was loaded at; junk (a tampered form) never matches."""
    raw = (form.revision.data or "").strip()
    if not raw:
        return None
    seen = parse_int(raw, max_value=10**9)
    return -1 if seen is None else seen


@project_part(order=20)
def _project_milestones(project) -> Markup | None:
    """The project page's part: each milestone of its contracts with its report's state
    (overdue included), linked to the contract's milestones page."""
    contracts = [c for c in contract_queries.of_project(project) if can(current_user, "contract.view", c)]
    by_contract = ds.milestones_of_many([c.id for c in contracts])
    rows = [(c, by_contract[c.id]) for c in contracts if by_contract.get(c.id)]
    if not rows:
        return None
    return Markup(render_template("delivery/_project_part.html", rows=rows))


@bp.route("/milestone-reports/")
@pagecache.cached
def reports():
    """Every milestone report the user may see; officers start at the ones to review."""
    return listing.respond(REPORTS, "delivery/reports.html", current_user)


@bp.route("/contracts/<int:contract_id>/milestones")
@pagecache.cached
def milestones(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    require_view("contract.view", contract)
    rows = ds.milestones_of(contract)
    may_report = contract.state == ContractState.ACTIVE and can(current_user, "milestone.report", rows[0][0]) \
        if rows else False
    return render_template("delivery/milestones.html", contract=contract, rows=rows, may_report=may_report,
                           editable=ds.EDITABLE)


def _report_form_page(milestone: Milestone, report: MilestoneReport | None, form: ReportForm, status: int = 200):
    contract = milestone.contract
    actuals = report.actuals if report is not None else ds.blank_actuals(contract)
    submit_form = SubmitReportForm(prefix="send", formdata=None)
    submit_form.revision.data = str(report.revision) if report is not None else ""
    return render_template("delivery/edit.html", milestone=milestone, contract=contract, report=report, form=form,
                           actuals=actuals, categories=BREAKDOWN_CATEGORIES,
                           submit_form=submit_form if report is not None else None,
                           missing=ds.missing_for_submission(report) if report is not None else None,
                           max_lines=ds.MAX_SPENDING_LINES), status


def _fill(form: ReportForm, report: MilestoneReport | None, actuals: list) -> None:
    form.revision.data = str(report.revision) if report is not None else "0"
    form.narrative.data = report.narrative if report is not None else ""
    for row in actuals:
        form.actuals.append_entry({"actual": row.get("actual", "")})
    lines = report.spending if report is not None else []
    for line in lines:
        form.spending.append_entry({"category": line.category, "amount": str(line.amount),
                                    "detail": line.description})
    for _i in range(min(BLANK_ROWS, ds.MAX_SPENDING_LINES - len(lines))):
        form.spending.append_entry()


@bp.route("/milestones/<int:milestone_id>/report", methods=["GET", "POST"])
def edit(milestone_id: int):
    milestone = db.get_or_404(Milestone, milestone_id)
    require_view("milestone.report", milestone)
    report = ds.report_of(milestone)
    if report is not None and report.state not in ds.EDITABLE:
        return redirect(url_for("delivery.report", report_id=report.id))
    if milestone.contract.state != ContractState.ACTIVE:
        flash(_("Reports are written while the contract is in force."), "warning")
        return redirect(url_for("delivery.milestones", contract_id=milestone.contract_id))
    form = ReportForm()
    if request.method == "GET":
        _fill(form, report, report.actuals if report is not None else ds.blank_actuals(milestone.contract))
        return _report_form_page(milestone, report, form)
    if not form.validate_on_submit():
        return _report_form_page(milestone, report, form, 400)
    data = ds.ReportData(
        narrative=form.narrative.data or "", actuals=[row.actual.data for row in form.actuals],
        spending=[ds.SpendingData(r.category.data, r.amount.data, r.detail.data) for r in form.spending],
        evidence_file=form.evidence_file.data, evidence_caption=form.evidence_caption.data or "",
        remove_evidence=request.form.getlist("remove_evidence"))
    try:
        perform(ds.save_report, current_user, milestone, data, _seen(form), form=form)
    except ServiceFailed:
        db.session.expire_all()
        return _report_form_page(milestone, ds.report_of(milestone), form, 400)
    flash(_("The draft report was saved."), "success")
    return redirect(url_for("delivery.edit", milestone_id=milestone.id))


@bp.route("/milestones/<int:milestone_id>/report/submit", methods=["POST"])
def submit(milestone_id: int):
    milestone = db.get_or_404(Milestone, milestone_id)
    require_view("milestone.report", milestone)
    report = ds.report_of(milestone)
    if report is None:
        flash(_("Save the report first."), "warning")
        return redirect(url_for("delivery.edit", milestone_id=milestone.id))
    form = SubmitReportForm(prefix="send")
    if form.validate_on_submit():
        try:
            sub = perform(ds.submit_report, current_user, report, _seen(form))
        except ServiceFailed:
            db.session.expire_all()
        else:
            flash_done(_("Version %(n)s of the report was submitted for review.", n=sub.number))
            return redirect(url_for("delivery.report", report_id=report.id))
    else:
        for errors in form.errors.values():
            for e in errors:
                flash(str(e), "danger")
    return redirect(url_for("delivery.edit", milestone_id=milestone.id))


def _report_page(report: MilestoneReport, status: int = 200, approve_form=None, revision_form=None):
    require_view("milestone_report.view", report)
    submissions = list(db.session.scalars(select(ReportSubmission).where(ReportSubmission.report_id == report.id)
                                          .order_by(ReportSubmission.number.desc())))
    may_review = report.state == R.SUBMITTED and can(current_user, "milestone_report.review", report)
    may_edit = report.state in ds.EDITABLE and report.contract.state == ContractState.ACTIVE and \
        can(current_user, "milestone.report", report.milestone)
    if may_review:
        approve_form = approve_form or ApproveForm(prefix="ok", formdata=None)
        revision_form = revision_form or RevisionForm(prefix="rev", formdata=None)
        approve_form.revision.data = revision_form.revision.data = str(report.revision)
    events = db.session.scalars(select(audit.AuditEvent).where(
        audit.AuditEvent.object_type == "milestone_reports", audit.AuditEvent.object_id == str(report.id))
        .order_by(audit.AuditEvent.seq.desc()).limit(50)).all()
    # The organization reads its current draft; the others read what was submitted.
    show_draft = can(current_user, "milestone.report", report.milestone)
    content = ds.current_content(report) if show_draft else (submissions[0].content if submissions else None)
    return render_template("delivery/report.html", report=report, milestone=report.milestone,
                           contract=report.contract, submissions=submissions, content=content, show_draft=show_draft,
                           categories=BREAKDOWN_CATEGORIES, may_edit=may_edit,
                           approve_form=approve_form if may_review else None,
                           revision_form=revision_form if may_review else None,
                           events=history.entries(events, current_user)), status


@bp.route("/reports/<int:report_id>")
@pagecache.cached
def report(report_id: int):
    return _report_page(db.get_or_404(MilestoneReport, report_id))


@bp.route("/reports/<int:report_id>/versions/<int:number>")
def version(report_id: int, number: int):
    report = db.get_or_404(MilestoneReport, report_id)
    require_view("milestone_report.view", report)
    sub = db.session.scalar(select(ReportSubmission).where(ReportSubmission.report_id == report.id,
                                                           ReportSubmission.number == number))
    if sub is None:
        abort(404)
    return render_template("delivery/version.html", report=report, milestone=report.milestone,
                           contract=report.contract, sub=sub, content=sub.content, categories=BREAKDOWN_CATEGORIES)


def _review(report_id: int, form_class, prefix: str, service, done: str, form_arg: str):
    """The officer's review of a submitted report (approve, or request a revision): the
    form, the service with the report's revision, then the report's page — with the
    message ``done``, or again with the form's errors (400)."""
    report = db.get_or_404(MilestoneReport, report_id)
    require_view("milestone_report.review", report)
    form = form_class(prefix=prefix)
    if form.validate_on_submit():
        try:
            perform(service, current_user, report, form.comment.data or "", _seen(form), form=form)
        except ServiceFailed:
            db.session.expire_all()
        else:
            flash_done(done)
            return redirect(url_for("delivery.report", report_id=report.id))
    return _report_page(db.session.get(MilestoneReport, report_id), 400, **{form_arg: form})


@bp.route("/reports/<int:report_id>/approve", methods=["POST"])
def approve(report_id: int):
    return _review(report_id, ApproveForm, "ok", ds.approve_report,
                   _("The report was approved; the organization was told."), "approve_form")


@bp.route("/reports/<int:report_id>/revision", methods=["POST"])
def revision(report_id: int):
    return _review(report_id, RevisionForm, "rev", ds.request_revision,
                   _("A revision was requested; the organization was told."), "revision_form")
