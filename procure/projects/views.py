"""Project pages: list, create/edit, detail with submit, budget check (approve or
return), cancel; the guiding catalogue (admin)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from .. import audit, history, listing, nav, pagecache
from ..budgets.models import Appropriation, FundingSource
from ..budgets.views import dashboard_part
from ..extensions import db
from ..money import format_money
from ..nav import ADMIN_GROUP, NavItem
from ..parsing import parse_id
from ..permissions import can
from ..queues import Queue
from ..queues import register as register_queue
from ..web import ServiceFailed, flash_done, perform, require_view
from . import services as ps
from . import story
from .forms import BudgetCheckForm, CategoryForm, ProjectForm, ReasonForm, ServedForm
from .lists import PROJECTS
from .models import Project, ProjectState, ServiceCategory

bp = Blueprint("projects", __name__, url_prefix="/projects")

nav.register(NavItem(_l("Projects"), "projects.index", "project.list", group=nav.PROCUREMENT_GROUP,
                     order=10))
nav.register(NavItem(_l("Service catalogue"), "projects.catalogue", "catalogue.manage",
                     group=ADMIN_GROUP, order=905))

register_queue(Queue(
    "budget.check", "project.budget_check", _l("Projects waiting for a budget check"), Project,
    lambda u: url_for("projects.index", state="submitted"),
    where=lambda u: Project.state == ProjectState.SUBMITTED))


@dashboard_part
def _waiting_for_budget_check(year: int) -> dict:
    """The finance dashboard's list of projects waiting for a budget check."""
    return {"waiting": db.session.scalars(select(Project).where(Project.state == ProjectState.SUBMITTED)
                                          .order_by(Project.submitted_at).limit(20)).all()}


#: Parts that higher modules add to a project's page (contracts: its contract), each
#: ``fn(project) -> Markup | None``; registered with :func:`project_part`.
PROJECT_PARTS: list = []


def project_part(fn=None, *, order: int = 50):
    """Register ``fn(project)`` as a part of the project's page (a higher module's view);
    parts show in ``order`` (the story's order: contract, milestones, payments,
    acceptance), then in registration order. Used bare or as ``@project_part(order=…)``."""
    def register(f):
        f.part_order = order
        PROJECT_PARTS.append(f)
        PROJECT_PARTS.sort(key=lambda g: g.part_order)  # stable: ties keep their registration order
        return f
    return register(fn) if fn is not None else register


@bp.before_request
@login_required
def _signed_in():
    """Every project page needs a signed-in user (each view checks its permission)."""


@bp.route("/")
@pagecache.cached
def index():
    return listing.respond(PROJECTS, "projects/index.html", current_user)


def _project_form(project: Project | None = None) -> ProjectForm:
    form = ProjectForm(obj=project)
    cats = db.session.scalars(select(ServiceCategory).order_by(ServiceCategory.code)).all()
    form.category_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(c.id), f"{c.code} {c.name}") for c in cats
        if c.is_active or (project is not None and c.id == project.category_id)]
    if request.method == "GET":
        if project is not None:
            form.category_id.data = str(project.category_id)
            form.method.data = project.method.value
            while len(form.targets.entries) < max(4, len(project.targets) + 1):
                form.targets.append_entry()
        elif not form.fiscal_year.data:
            from ..timeutil import utcnow

            form.fiscal_year.data = str(utcnow().year)
    return form


def _project_data(form: ProjectForm) -> ps.ProjectData:
    return ps.ProjectData(
        title=form.title.data, category_id=form.category_id.data, fiscal_year=form.fiscal_year.data,
        service_area=form.service_area.data, target_group=form.target_group.data,
        budget_ceiling=form.budget_ceiling.data, method=form.method.data,
        period_start=form.period_start.data, period_end=form.period_end.data,
        targets=[ps.TargetData(t.indicator.data, t.unit.data, t.target_value.data, t.is_beneficiaries.data)
                 for t in form.targets])


@bp.route("/new", methods=["GET", "POST"])
def new():
    require_view("project.create")
    form = _project_form()
    status = 200
    if form.validate_on_submit():
        try:
            project = perform(ps.create_project, current_user, _project_data(form), form=form)
        except ServiceFailed:
            status = 400
        else:
            flash(_("Project saved as a draft."), "success")
            return redirect(url_for("projects.detail", project_id=project.id))
    elif request.method == "POST":
        status = 400
    return render_template("projects/form.html", form=form, project=None), status


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
def edit(project_id: int):
    project = db.get_or_404(Project, project_id)
    require_view("project.edit", project)
    if project.state != ProjectState.DRAFT:
        flash(_("Only a draft project can be edited."), "warning")
        return redirect(url_for("projects.detail", project_id=project.id))
    form = _project_form(project)
    status = 200
    if form.validate_on_submit():
        try:
            perform(ps.update_project, current_user, project, _project_data(form),
                    seen_revision=parse_id(form.revision.data), form=form)
        except ServiceFailed:
            status = 400
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("projects.detail", project_id=project.id))
    elif request.method == "POST":
        status = 400
    return render_template("projects/form.html", form=form, project=project), status


def _budget_form(project: Project) -> BudgetCheckForm:
    form = BudgetCheckForm()
    apprs = db.session.scalars(select(Appropriation).join(FundingSource)
                               .where(Appropriation.department_id == project.department_id,
                                      Appropriation.fiscal_year == project.fiscal_year)
                               .order_by(FundingSource.position)).all()
    choices = [SelectChoice("", "—")] + [
        # One message with placeholders: a call inside an f-string is never extracted.
        SelectChoice(str(a.id), _("%(source)s · remaining %(amount)s", source=a.source.label,
                                  amount=format_money(a.remaining))) for a in apprs]
    for line in form.allocations:
        line.appropriation_id.choices = choices
    return form


def _detail(project: Project, status: int = 200, **forms):
    require_view("project.view", project)
    internal = can(current_user, "project.list")  # the money, the funds, the history: staff only
    totals = ps.project_totals([project.id]).get(project.id) if internal else None
    events = db.session.scalars(select(audit.AuditEvent).where(
        audit.AuditEvent.object_type == "projects", audit.AuditEvent.object_id == str(project.id))
        .order_by(audit.AuditEvent.seq.desc()).limit(30)).all() if internal else []
    ctx = {"budget_form": None, "return_form": ReasonForm(prefix="ret"), "cancel_form": ReasonForm(prefix="cancel"),
           "served_form": ServedForm()}
    if project.state == ProjectState.SUBMITTED and can(current_user, "project.budget_check"):
        ctx["budget_form"] = _budget_form(project)
    ctx.update(forms)
    parts = [html for html in (fn(project) for fn in PROJECT_PARTS) if html]
    return render_template("projects/detail.html", project=project, totals=totals, parts=parts,
                           timeline=story.timeline(project), internal=internal,
                           money=story.money(project, totals or ()) if internal else None,
                           events=history.entries(events, current_user) if internal else None,
                           cancellable=project.state in ps.CANCELLABLE, **ctx), status


@bp.route("/<int:project_id>")
@pagecache.cached
def detail(project_id: int):
    return _detail(db.get_or_404(Project, project_id))


@bp.route("/<int:project_id>/submit", methods=["POST"])
def submit(project_id: int):
    project = db.get_or_404(Project, project_id)
    require_view("project.edit", project)
    try:
        perform(ps.submit_project, current_user, project)
    except ServiceFailed:
        pass
    else:
        flash_done(_("Submitted for the budget check."))
    return redirect(url_for("projects.detail", project_id=project.id))


@bp.route("/<int:project_id>/approve", methods=["POST"])
def approve(project_id: int):
    project = db.get_or_404(Project, project_id)
    require_view("project.budget_check")
    form = _budget_form(project)
    if form.validate_on_submit():
        lines = [(line.appropriation_id.data, line.amount.data) for line in form.allocations]
        try:
            perform(ps.approve_project, current_user, project, lines, form.note.data, form=form)
        except ServiceFailed:
            db.session.refresh(project)
        else:
            flash_done(_("Funds reserved; the project is approved."))
            return redirect(url_for("projects.detail", project_id=project.id))
    return _detail(project, 400, budget_form=form)


def _form_action(project: Project, form, form_name: str, service, value, message: str):
    """Run one form-backed service on ``project``: flash and redirect on success, else
    the detail page again with the form's errors (400)."""
    if form.validate_on_submit():
        try:
            perform(service, current_user, project, value, form=form)
        except ServiceFailed:
            db.session.refresh(project)
        else:
            flash_done(message)
            return redirect(url_for("projects.detail", project_id=project.id))
    return _detail(project, 400, **{form_name: form})


@bp.route("/<int:project_id>/return", methods=["POST"])
def return_(project_id: int):
    project = db.get_or_404(Project, project_id)
    require_view("project.budget_check")
    form = ReasonForm(prefix="ret")
    return _form_action(project, form, "return_form", ps.return_project, form.reason.data,
                        _("The project was returned to its department."))


@bp.route("/<int:project_id>/cancel", methods=["POST"])
def cancel(project_id: int):
    project = db.get_or_404(Project, project_id)
    if not (can(current_user, "project.edit", project) or can(current_user, "project.budget_check")):
        abort(403)
    form = ReasonForm(prefix="cancel")
    return _form_action(project, form, "cancel_form", ps.cancel_project, form.reason.data,
                        _("The project was cancelled and its reserved funds released."))


@bp.route("/<int:project_id>/served", methods=["POST"])
def served(project_id: int):
    project = db.get_or_404(Project, project_id)
    require_view("project.edit", project)
    form = ServedForm()
    return _form_action(project, form, "served_form", ps.record_beneficiaries_served,
                        form.beneficiaries_served.data, _("Changes saved."))


@bp.route("/catalogue", methods=["GET", "POST"])
@bp.route("/catalogue/<int:cat_id>", methods=["GET", "POST"])
def catalogue(cat_id: int | None = None):
    require_view("catalogue.manage")
    cat = db.get_or_404(ServiceCategory, cat_id) if cat_id else None
    form = CategoryForm(obj=cat)
    status = 200
    if form.validate_on_submit():
        try:
            perform(ps.save_category, current_user, cat, form.code.data, form.name.data, form.is_active.data,
                    form=form)
        except ServiceFailed:
            status = 400
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("projects.catalogue"))
    elif request.method == "POST":
        status = 400
    rows = db.session.scalars(select(ServiceCategory).order_by(ServiceCategory.code)).all()
    return render_template("projects/catalogue.html", form=form, rows=rows, cat=cat), status
