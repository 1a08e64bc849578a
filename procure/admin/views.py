"""Admin pages. Each view checks the permission, the services check it again."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from .. import audit, history, nav, policy
from ..auth import services as accounts
from ..auth.forms import DepartmentForm, UserForm
from ..auth.history import LOCALES
from ..auth.models import Department, User, UserStatus
from ..extensions import db
from ..nav import ADMIN_GROUP, NavItem
from ..notifications import services as outbox
from ..notifications.models import Notification, NotificationState
from ..notifications.services import TOPICS
from ..organizations.models import Organization
from ..roles import Role
from ..web import ServiceFailed, perform, require_view

bp = Blueprint("admin", __name__, url_prefix="/admin")

for _order, (_label, _endpoint, _perm) in enumerate([
    (_l("Users"), "admin.users", "user.manage"),
    (_l("Departments"), "admin.departments", "department.manage"),
    (_l("Emails"), "admin.outbox_list", "outbox.view"),
    (_l("Policy values"), "admin.policy_values", "policy.view"),
    (_l("Audit trail"), "admin.audit_log", "audit.view"),
]):
    nav.register(NavItem(_label, _endpoint, _perm, group=ADMIN_GROUP, order=900 + _order))


@bp.before_request
@login_required
def _signed_in():
    """Every admin page needs a signed-in user (each view checks its permission)."""


def _user_form(obj=None) -> UserForm:
    form = UserForm(obj=obj)
    form.department_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(d.id, d.name) for d in db.session.scalars(select(Department).order_by(Department.name))]
    form.organization_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(o.id, o.name) for o in db.session.scalars(select(Organization).order_by(Organization.name))]
    if obj is not None and request.method == "GET":
        form.role.data = obj.role.value
    return form


def _user_data(form: UserForm) -> accounts.UserData:
    return accounts.UserData(
        username=form.username.data, email=form.email.data, name=form.name.data,
        role=Role(form.role.data), locale=form.locale.data,
        department_id=form.department_id.data, organization_id=form.organization_id.data)


@bp.route("/users")
def users():
    require_view("user.manage")
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    stmt = select(User).order_by(User.role, User.username)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(User.username.ilike(like) | User.name.ilike(like) | User.email.ilike(like))
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role == Role(role))
    page = db.paginate(stmt, per_page=50, error_out=False)
    return render_template("admin/users.html", page=page, q=q, role=role, roles=list(Role))


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    require_view("user.manage")
    form = _user_form()
    if form.validate_on_submit():
        try:
            user = perform(accounts.create_user, current_user, _user_data(form), form.password.data or None,
                           form=form)
        except ServiceFailed:
            pass
        else:
            flash(_("User %(u)s created. A welcome email with a link to set the password was sent to %(e)s.",
                    u=user.username, e=user.email), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    require_view("user.manage")
    user = db.get_or_404(User, user_id)
    form = _user_form(user)
    if form.validate_on_submit():
        try:
            perform(accounts.update_user, current_user, user, _user_data(form), form=form)
        except ServiceFailed:
            db.session.refresh(user)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("admin.users"))
    events = db.session.scalars(select(audit.AuditEvent).where(
        audit.AuditEvent.object_type == "users", audit.AuditEvent.object_id == str(user.id))
        .order_by(audit.AuditEvent.seq.desc()).limit(20)).all()
    return render_template("admin/user_form.html", form=form, user=user,
                           events=history.entries(events, current_user))


@bp.route("/users/<int:user_id>/status", methods=["POST"])
def user_status(user_id: int):
    require_view("user.manage")
    user = db.get_or_404(User, user_id)
    try:
        status = UserStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    try:
        perform(accounts.set_user_status, current_user, user, status)
    except ServiceFailed:
        pass
    else:
        flash(_("User %(u)s is now %(s)s.", u=user.username, s=status.label), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/departments")
def departments():
    require_view("department.manage")
    rows = db.session.execute(
        select(Department, func.count(User.id)).outerjoin(User, User.department_id == Department.id)
        .group_by(Department.id).order_by(Department.name)).all()
    return render_template("admin/departments.html", rows=rows)


@bp.route("/departments/new", methods=["GET", "POST"])
@bp.route("/departments/<int:dep_id>", methods=["GET", "POST"])
def department_form(dep_id: int | None = None):
    require_view("department.manage")
    dep = db.get_or_404(Department, dep_id) if dep_id else None
    form = DepartmentForm(obj=dep)
    if form.validate_on_submit():
        try:
            if dep is None:
                perform(accounts.create_department, current_user, form.name.data, form.code.data, form=form)
            else:
                perform(accounts.update_department, current_user, dep, form.name.data, form.code.data, form=form)
        except ServiceFailed:
            if dep is not None:
                db.session.refresh(dep)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("admin.departments"))
    return render_template("admin/department_form.html", form=form, dep=dep)


@bp.route("/outbox")
def outbox_list():
    require_view("outbox.view")
    state = request.args.get("state", "")
    stmt = select(Notification).order_by(Notification.id.desc())
    if state in {s.value for s in NotificationState}:
        stmt = stmt.where(Notification.state == NotificationState(state))
    page = db.paginate(stmt, per_page=50, error_out=False)
    counts = dict(db.session.execute(
        select(Notification.state, func.count()).group_by(Notification.state)).all())
    return render_template("admin/outbox.html", page=page, state=state, counts=counts,
                           states=list(NotificationState))


@bp.route("/outbox/<int:note_id>")
def outbox_detail(note_id: int):
    require_view("outbox.view")
    note = db.get_or_404(Notification, note_id)
    about = None
    if note.object_type and note.object_id:
        names = history.load_names([(note.object_type, note.object_id)], current_user)
        about = (history.object_label(note.object_type), names.link(note.object_type, note.object_id))
    return render_template("admin/outbox_detail.html", note=note, rule_label=_rule_label(note.rule), about=about,
                           language=LOCALES.get(note.locale, note.locale))


#: Emails that no reminder rule writes.
OTHER_RULES = {"welcome": _l("Welcome email"), "password_reset": _l("Password reset link")}


def _rule_label(rule: str) -> str:
    found = TOPICS.get(rule)
    return str(found.label if found else OTHER_RULES.get(rule, rule))


@bp.route("/outbox/<int:note_id>/requeue", methods=["POST"])
def outbox_requeue(note_id: int):
    require_view("outbox.view")
    note = db.get_or_404(Notification, note_id)
    try:
        perform(outbox.requeue, current_user, note)
    except ServiceFailed:
        pass
    else:
        flash(_("The email is queued again."), "success")
    return redirect(url_for("admin.outbox_detail", note_id=note.id))


@bp.route("/policy")
def policy_values():
    require_view("policy.view")
    return render_template("admin/policy.html", rows=policy.in_force())


@bp.route("/audit")
def audit_log():
    require_view("audit.view")
    stmt = select(audit.AuditEvent).order_by(audit.AuditEvent.seq.desc())
    otype = request.args.get("object_type", "").strip()
    if otype:
        stmt = stmt.where(audit.AuditEvent.object_type == otype)
    page = db.paginate(audit.shown_events(stmt), per_page=50, error_out=False)
    history.load()
    object_types = sorted(((code, history.object_label(code)) for code in history.KINDS), key=lambda t: t[1])
    return render_template("admin/audit.html", page=page, object_type=otype, object_types=object_types,
                           entries=history.entries(page.items, current_user))
