"""Admin page of the holiday calendar: one year's entered days, add, change, remove."""

from __future__ import annotations

from datetime import MAXYEAR, MINYEAR, date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from .. import nav
from ..admin.views import ADMIN_GROUP
from ..extensions import db
from ..nav import NavItem
from ..parsing import parse_int
from ..web import ServiceFailed, perform, require_view
from . import services
from .forms import CalendarDayForm
from .models import DayKind, HolidayEntry

bp = Blueprint("calendar", __name__, url_prefix="/admin/calendar")

nav.register(NavItem(_l("Holiday calendar"), "calendar.index", "calendar.manage", group=ADMIN_GROUP,
                     order=960))


def _year_arg() -> int | None:
    """The year a link asks for; date(year + 1, 1, 1) must exist."""
    return parse_int(request.args.get("year"), min_value=MINYEAR, max_value=MAXYEAR - 1)


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    require_view("calendar.manage")
    year = _year_arg() or date.today().year
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
    entries = db.session.scalars(select(HolidayEntry).where(
        HolidayEntry.day >= date(year, 1, 1), HolidayEntry.day < date(year + 1, 1, 1)).order_by(HolidayEntry.day)).all()
    years = db.session.scalars(select(func.distinct(func.extract("year", HolidayEntry.day)))).all()
    return render_template("calendar/index.html", form=form, year=year, entries=entries,
                           entered_years=sorted(int(y) for y in years))


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
