"""Holiday calendar page: one year's entered days and whether the year is complete
(officers read it; admins add days one by one or as a batch, mark the year complete
citing the notice, or un-mark it with a reason). Registers the December warning queue."""

from __future__ import annotations

from datetime import MAXYEAR, MINYEAR, date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from .. import nav
from ..extensions import db
from ..nav import ADMIN_GROUP, NavItem
from ..parsing import parse_int
from ..permissions import can
from ..queues import Queue
from ..queues import register as register_queue
from ..web import ServiceFailed, perform, require_view
from . import local_today, next_year_missing, package_knows, services
from .forms import CalendarBatchForm, CalendarDayForm, CompleteYearForm, ReopenYearForm
from .models import DayKind, HolidayEntry, HolidayYear

bp = Blueprint("calendar", __name__, url_prefix="/admin/calendar")

nav.register(NavItem(_l("Holiday calendar"), "calendar.index", "calendar.view", group=ADMIN_GROUP,
                     order=960))

register_queue(Queue(
    "calendar.next_year", "calendar.view", _l("Next year's holiday calendar not complete"), HolidayYear,
    lambda u: url_for("calendar.index", year=next_year_missing()), tone="danger",
    shown=lambda u: next_year_missing() is not None, counter=lambda u: 1 if next_year_missing() else 0))


def _year(value) -> int:
    if value is None or not MINYEAR <= value < MAXYEAR:  # date(year + 1, 1, 1) must exist
        return local_today().year
    return value


def _page(year: int, status: int = 200, **forms):
    entries = db.session.scalars(select(HolidayEntry).where(
        HolidayEntry.day >= date(year, 1, 1), HolidayEntry.day < date(year + 1, 1, 1)).order_by(HolidayEntry.day)).all()
    years = db.session.scalars(select(func.distinct(func.extract("year", HolidayEntry.day)))).all()
    marks = {y.year: y for y in db.session.scalars(select(HolidayYear))}
    mark = marks.get(year)
    manage = can(current_user, "calendar.manage")
    ctx = {"form": CalendarDayForm(formdata=None), "batch_form": CalendarBatchForm(formdata=None),
           "complete_form": CompleteYearForm(formdata=None), "reopen_form": ReopenYearForm(formdata=None)}
    ctx.update(forms)
    return render_template("calendar/index.html", year=year, entries=entries, mark=mark, manage=manage,
                           is_complete=bool(mark and mark.is_complete), package_knows=package_knows(year),
                           entered_years=sorted({int(y) for y in years} | set(marks)),
                           complete_years={y for y, m in marks.items() if m.is_complete},
                           missing=next_year_missing(), **ctx), status


def _year_arg() -> int | None:
    """The year a link asks for; date(year + 1, 1, 1) must exist."""
    return parse_int(request.args.get("year"), min_value=MINYEAR, max_value=MAXYEAR - 1)


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    require_view("calendar.view")
    year = _year(request.args.get("year", type=int))
    if request.method == "GET":
        return _page(year)
    require_view("calendar.manage")
    form = CalendarDayForm()
    if form.validate_on_submit():
        try:
            entry = perform(services.set_calendar_day, current_user, form.day.data, DayKind(form.kind.data),
                            form.note.data or "", form=form)
        except ServiceFailed:
            pass
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("calendar.index", year=entry.day.year))
    return _page(year, 200, form=form)


@bp.route("/batch", methods=["POST"])
@login_required
def batch():
    require_view("calendar.manage")
    year = _year(request.args.get("year", type=int))
    form = CalendarBatchForm()
    if form.validate_on_submit():
        try:
            entries = perform(services.enter_calendar_days, current_user, form.lines.data, form=form)
        except ServiceFailed as failed:
            form.lines.errors = list(form.lines.errors) + [str(e) for e in getattr(failed.__cause__, "errors", [])]
        else:
            flash(_("%(n)d days saved.", n=len(entries)), "success")
            return redirect(url_for("calendar.index", year=entries[0].day.year))
    return _page(year, 400, batch_form=form)


@bp.route("/<int:year>/complete", methods=["POST"])
@login_required
def complete(year: int):
    require_view("calendar.manage")
    year = _year(year)
    form = CompleteYearForm()
    if form.validate_on_submit():
        try:
            perform(services.mark_year_complete, current_user, year, form.notice_ref.data, form.notice_date.data,
                    form=form)
        except ServiceFailed:
            pass
        else:
            flash(_("%(year)s is marked complete: working days are counted in it.", year=year), "success")
            return redirect(url_for("calendar.index", year=year))
    return _page(year, 400, complete_form=form)


@bp.route("/<int:year>/reopen", methods=["POST"])
@login_required
def reopen(year: int):
    require_view("calendar.manage")
    year = _year(year)
    form = ReopenYearForm()
    if form.validate_on_submit():
        try:
            perform(services.reopen_year, current_user, year, form.reason.data, form=form)
        except ServiceFailed:
            pass
        else:
            flash(_("%(year)s is un-marked: its days can be changed; mark it complete again when done.",
                    year=year), "success")
            return redirect(url_for("calendar.index", year=year))
    return _page(year, 400, reopen_form=form)


@bp.route("/<int:entry_id>/delete", methods=["POST"])
@login_required
def delete(entry_id: int):
    require_view("calendar.manage")
    try:
        perform(services.delete_calendar_day, current_user, entry_id)
    except ServiceFailed:
        pass
    else:
        flash(_("Changes saved."), "success")
    return redirect(url_for("calendar.index", year=_year_arg()))
