"""Incubation base pages (registered on the module's blueprint by views.py)."""

from __future__ import annotations

from flask import flash as _flash
from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import listing
from ..errors import NotFound
from ..extensions import db
from ..web import ServiceFailed, perform, require_view
from . import bases
from .base_lists import BASES
from .forms import BaseForm, GraduateForm, ResidentForm
from .models import IncubationBase, Residency


def register(bp) -> None:
    bp.add_url_rule("/bases/", "bases", index)
    bp.add_url_rule("/bases/new", "base_new", new, methods=["GET", "POST"])
    bp.add_url_rule("/bases/<int:base_id>", "base_detail", detail)
    bp.add_url_rule("/bases/<int:base_id>/edit", "base_edit", edit, methods=["GET", "POST"])
    bp.add_url_rule("/bases/<int:base_id>/residents", "base_add_resident", add_resident, methods=["POST"])
    bp.add_url_rule("/bases/<int:base_id>/residents/<int:res_id>/graduate", "base_graduate", graduate,
                    methods=["POST"])


def index():
    return listing.respond(BASES, "organizations/bases.html", current_user)


def new():
    require_view("base.manage")
    form = BaseForm()
    if form.validate_on_submit():
        try:
            base = perform(bases.create_base, current_user, form.data_dict(), form=form)
        except ServiceFailed:
            pass
        else:
            return redirect(url_for("organizations.base_detail", base_id=base.id))
    return render_template("organizations/form.html", form=form, org=None, title=_("New incubation base"))


def _base(base_id: int, action: str) -> IncubationBase:
    base = db.get_or_404(IncubationBase, base_id)
    require_view(action, base)
    return base


def _render(base, status=200, resident_form=None):
    return render_template("organizations/base.html", base=base,
                           resident_form=resident_form or ResidentForm(formdata=None),
                           graduate_form=GraduateForm(formdata=None)), status


def detail(base_id: int):
    return _render(_base(base_id, "base.view"))


def edit(base_id: int):
    base = _base(base_id, "base.manage")
    form = BaseForm(obj=base)
    if not form.is_submitted():
        form.operator.data = base.operator.credit_code or base.operator.name
    if form.validate_on_submit():
        try:
            perform(bases.update_base, current_user, base, form.data_dict(), form=form)
        except ServiceFailed:
            db.session.refresh(base)
        else:
            return redirect(url_for("organizations.base_detail", base_id=base.id))
    return render_template("organizations/form.html", form=form, org=None, title=_("Incubation base"))


def add_resident(base_id: int):
    base = _base(base_id, "base.manage")
    form = ResidentForm()
    if form.validate_on_submit():
        org = bases.find_organization(form.credit_code.data)
        if org is None:
            form.credit_code.errors = [_("No organization has this credit code or name.")]
        else:
            try:
                perform(bases.add_resident, current_user, base, org, form.moved_in_on.data, form=form)
            except ServiceFailed:
                pass
            else:
                _flash(_("Changes saved."), "success")
                return redirect(url_for("organizations.base_detail", base_id=base.id))
        if form.errors.get("organization_id"):
            form.credit_code.errors = list(form.credit_code.errors) + form.errors["organization_id"]
    return _render(db.session.get(IncubationBase, base_id), 400, form)


def graduate(base_id: int, res_id: int):
    base = _base(base_id, "base.manage")
    res = db.session.get(Residency, res_id)
    if res is None or res.base_id != base.id:
        raise NotFound(_("This page does not exist."))
    form = GraduateForm()
    if form.validate_on_submit():
        try:
            perform(bases.graduate, current_user, res, form.graduated_on.data)
        except ServiceFailed:
            pass
        else:
            _flash(_("Changes saved."), "success")
    else:
        _flash(_("Give the graduation date."), "danger")
    return redirect(url_for("organizations.base_detail", base_id=base.id))
