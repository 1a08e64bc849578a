"""Organization pages: the registry list, a page per organization with its standing,
eligibility and history, and the forms officers and organizations use. Thin: each view
checks the permission, validates its form and calls one service through ``perform``."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask import flash as _flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import String, cast, select, union_all
from sqlalchemy.orm import selectinload

from .. import audit, listing, nav, pagecache, permissions
from .. import history as readable_history
from ..auth.models import User
from ..extensions import db
from ..jobs.models import Job
from ..nav import NavItem
from ..permissions import define, own_organization
from ..queues import Queue
from ..queues import register as register_queue
from ..roles import Role
from ..timeutil import local_today
from ..web import ServiceFailed, perform, require_view
from . import importer, services
from .forms import (
    AnnualReportForm,
    CreditEntryForm,
    EntryDecisionForm,
    ImportForm,
    ProfileForm,
    RatingForm,
    RegistrationForm,
)
from .lists import ORGANIZATIONS
from .models import (
    AnnualReport,
    CreditEntry,
    CreditList,
    EntryState,
    Organization,
    Rating,
)

bp = Blueprint("organizations", __name__, url_prefix="/organizations")

#: An organization's staff see the accounts of their own organization.
define("organization.own_accounts", {Role.ORG}, own_organization(), model=User)
register_queue(Queue(
    "org.users", "organization.own_accounts", _l("Accounts of my organization"), User,
    lambda u: url_for("organizations.users", org_id=u.organization_id)))

nav.register(NavItem(_l("Organizations"), "organizations.index", "organization.list",
                     group=nav.REGISTRY_GROUP, order=40))
nav.register(NavItem(
    _l("My organization"), "organizations.detail", "organization.view", order=50,
    values=lambda u: {"org_id": u.organization_id, "_obj": u.organization}
    if u.organization_id and u.role == "org" else None))

@bp.before_request
@login_required
def _signed_in():
    """Every registry page needs a signed-in user (each view checks its permission)."""


@bp.route("/")
@pagecache.cached
def index():
    return listing.respond(ORGANIZATIONS, "organizations/index.html", current_user)


@bp.route("/new", methods=["GET", "POST"])
def new():
    require_view("organization.manage")
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            org = perform(services.create_organization, current_user, form.data_dict(), form=form)
        except ServiceFailed:
            pass
        else:
            _flash(_("Organization %(n)s registered.", n=org.name), "success")
            return redirect(url_for("organizations.detail", org_id=org.id))
    return render_template("organizations/form.html", form=form, org=None,
                           title=_("Register an organization"))


def _org(org_id: int, action: str) -> Organization:
    org = db.get_or_404(Organization, org_id)
    require_view(action, org)
    return org


def history(org: Organization, limit: int = 50) -> list:
    """Audit events of the organization and of its ratings, reports and credit entries."""
    E = audit.AuditEvent
    # One statement: the organization's events and, joined on (object type, id), those of
    # its child rows; each branch reads the audit index (object_type, object_id).
    branches = [select(E.id).where(E.object_type == "organizations", E.object_id == str(org.id))]
    for model in (Rating, AnnualReport, CreditEntry):
        branches.append(select(E.id).join(model, (E.object_type == model.__tablename__)
                                          & (E.object_id == cast(model.id, String)))
                        .where(model.organization_id == org.id))
    ids = union_all(*branches).subquery()
    return db.session.scalars(select(E).where(E.id.in_(select(ids.c.id))).order_by(E.seq.desc())
                              .limit(limit)).all()


def _render_detail(org: Organization, status: int = 200, **forms):
    # The forms and the history are shown to those who manage the registry only: not
    # built (nor queried) for anyone else.
    manage = permissions.can(current_user, "organization.manage", org)
    if manage:
        forms.setdefault("rating_form", RatingForm(formdata=None, rated_on=local_today()))
        forms.setdefault("report_form", AnnualReportForm(formdata=None, year=services.last_due_year(local_today())))
        forms.setdefault("credit_form", CreditEntryForm(formdata=None, listed_on=local_today()))
    reasons = services.check_eligibility(org, local_today())
    return render_template("organizations/detail.html", org=org, reasons=reasons,
                           events=readable_history.entries(history(org), current_user) if manage else [],
                           EntryState=EntryState, today=local_today(),
                           extra_sections=[fn(org) for fn in DETAIL_SECTIONS], **forms), status


#: Other parts of the module add sections to the page: (org) -> (template, context).
DETAIL_SECTIONS: list = []


@bp.route("/<int:org_id>")
@pagecache.cached
def detail(org_id: int):
    org = _org(org_id, "organization.view")
    return _render_detail(org)


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
def edit(org_id: int):
    org = _org(org_id, "organization.manage")
    form = RegistrationForm(obj=org)
    if request.method == "GET":
        form.kind.data, form.status.data = org.kind.value, org.status.value
    if form.validate_on_submit():
        try:
            perform(services.update_registration, current_user, org, form.data_dict(), form=form)
        except ServiceFailed:
            db.session.refresh(org)
        else:
            _flash(_("Changes saved."), "success")
            return redirect(url_for("organizations.detail", org_id=org.id))
    return render_template("organizations/form.html", form=form, org=org, title=_("Registration data"))


@bp.route("/<int:org_id>/profile", methods=["GET", "POST"])
def profile(org_id: int):
    org = _org(org_id, "organization.edit_profile")
    form = ProfileForm(obj=org)
    if form.validate_on_submit():
        try:
            perform(services.update_profile, current_user, org, form.data_dict(), form=form)
        except ServiceFailed:
            db.session.refresh(org)
        else:
            _flash(_("Changes saved."), "success")
            return redirect(url_for("organizations.detail", org_id=org.id))
    return render_template("organizations/form.html", form=form, org=org, title=_("Profile"))


def _detail_action(org_id: int, form_class, form_key: str, service, args, done: str):
    """A small form posted from the detail page: on success flash ``done`` and go back to
    the page; otherwise show the page again (400) with the form and its errors.
    ``args(form)`` gives the service's arguments after the actor and the organization."""
    org = _org(org_id, "organization.manage")
    form = form_class()
    if form.validate_on_submit():
        try:
            perform(service, current_user, org, *args(form), form=form)
        except ServiceFailed:
            pass
        else:
            _flash(done, "success")
            return redirect(url_for("organizations.detail", org_id=org.id))
    return _render_detail(db.session.get(Organization, org_id), 400, **{form_key: form})


@bp.route("/<int:org_id>/ratings", methods=["POST"])
def add_rating(org_id: int):
    return _detail_action(org_id, RatingForm, "rating_form", services.add_rating,
                          lambda f: (int(f.level.data), f.rated_on.data), _("Rating recorded."))


@bp.route("/<int:org_id>/annual-reports", methods=["POST"])
def annual_report(org_id: int):
    return _detail_action(org_id, AnnualReportForm, "report_form", services.record_annual_report,
                          lambda f: (f.year.data, f.filed_on.data), _("Annual report recorded."))


@bp.route("/<int:org_id>/credit", methods=["POST"])
def add_credit(org_id: int):
    return _detail_action(org_id, CreditEntryForm, "credit_form", services.add_credit_entry,
                          lambda f: (CreditList(f.list.data), f.listed_on.data, f.reason.data),
                          _("Listing recorded."))


@bp.route("/<int:org_id>/credit/<int:entry_id>/<any(confirm, reject, remove):action>", methods=["POST"])
def decide_entry(org_id: int, entry_id: int, action: str):
    org = _org(org_id, "organization.manage")
    form = EntryDecisionForm()
    if not form.validate():
        for field_errors in form.errors.values():
            for message in field_errors:
                _flash(message, "danger")
        return redirect(url_for("organizations.detail", org_id=org_id))
    try:
        entry = services.get_entry(org, entry_id)
        if action == "confirm":
            perform(services.confirm_entry, current_user, entry)
        elif action == "reject":
            perform(services.reject_entry, current_user, entry, form.reason.data or "")
        else:
            perform(services.remove_entry, current_user, entry, form.removed_on.data or local_today(),
                    form.reason.data or "")
    except ServiceFailed:
        pass
    else:
        _flash(_("Changes saved."), "success")
    return redirect(url_for("organizations.detail", org_id=org_id))


@bp.route("/<int:org_id>/users")
def users(org_id: int):
    org = _org(org_id, "organization.users.view")
    return render_template("organizations/users.html", org=org, users=org.users)


# --- import --------------------------------------------------------------------------


def _max_bytes() -> int:

    return int(current_app.config.get("REGISTRY_IMPORT_MAX_BYTES", importer.DEFAULT_MAX_BYTES))


@bp.route("/import", methods=["GET", "POST"])
def import_upload():
    """Upload a registry export. Small files are imported at once; large ones by a
    worker, with a progress page. A rejected file is never stored."""
    require_view("organization.import")
    form = ImportForm()
    result = None
    if request.method == "POST" and (request.content_length or 0) > _max_bytes() + 64 * 1024:
        abort(413)
    if form.validate_on_submit():
        data = form.file.data.read(_max_bytes() + 1)
        filename = (form.file.data.filename or "")[:200]
        if len(data) > _max_bytes():
            abort(413)
        try:
            rows = importer.count_rows(data)
        except importer.FileRejected as exc:
            form.file.errors = [str(exc.message)]
        else:
            if rows > importer.WORKER_THRESHOLD:
                try:
                    job = perform(importer.request_import, current_user, data, filename=filename,
                                  only_good=form.only_good.data, total=rows, form=form)
                except ServiceFailed:
                    pass
                else:  # the worker starts after the commit
                    return redirect(url_for("organizations.import_job", job_id=job.id))
            else:
                try:
                    result = perform(importer.import_bytes, current_user, data, only_good=form.only_good.data,
                                     filename=filename, form=form)
                except ServiceFailed:
                    pass
                else:
                    if result.applied:
                        _flash(_("Imported: %(c)d new, %(u)d updated, %(n)d unchanged.", c=len(result.created),
                                 u=len(result.updated), n=result.unchanged), "success")
                    else:
                        _flash(_("Nothing was imported: %(n)d row(s) are wrong. Fix them, or choose to "
                                 "import only the good rows.", n=result.error_count), "danger")
    status = 400 if form.errors or (result is not None and not result.applied) else 200
    return render_template("organizations/import.html", form=form, result=result,
                           max_mb=_max_bytes() // (1024 * 1024)), status


@bp.route("/import/<int:job_id>")
def import_job(job_id: int):
    """An import job's page: its progress (the generic job macro, which polls
    ``/jobs/<id>``), then, once it has ended, its result."""
    job = db.get_or_404(Job, job_id)
    if job.kind != importer.IMPORT_JOB:
        abort(404)
    require_view("job.view", job)
    return render_template("organizations/import_job.html", job=job, result=job.result)


# --- incubation bases ----------------------------------------------------------------

from . import base_views  # noqa: E402
from .models import IncubationBase, Residency  # noqa: E402

base_views.register(bp)
nav.register(NavItem(_l("Incubation bases"), "organizations.bases", "base.list", group=nav.REGISTRY_GROUP,
                     order=41))


def _residency_section(org):
    residencies = db.session.scalars(select(Residency).where(Residency.organization_id == org.id)
                                     .options(selectinload(Residency.base))
                                     .order_by(Residency.moved_in_on.desc())).all()
    runs = db.session.scalars(select(IncubationBase).where(IncubationBase.operator_id == org.id)).all()
    return "organizations/_residency.html", {"residencies": residencies, "runs": runs}


DETAIL_SECTIONS.append(_residency_section)


def _performance_section(org):
    """The organization's record: each acceptance grade and any failure (issue 11 item 5)."""
    from .models import PERFORMANCE_GRADE_LABELS

    return "organizations/_performance.html", {"records": services.performance_records(org),
                                               "grades": PERFORMANCE_GRADE_LABELS}


DETAIL_SECTIONS.append(_performance_section)
