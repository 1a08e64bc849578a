"""Finance pages: the dashboard, appropriations and their adjustments; the budget
execution figures; commands in ``cli.py``."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from .. import listing, nav, pagecache
from ..auth.models import Department
from ..extensions import db
from ..money import format_wan, money_formatter, to_money
from ..nav import NavItem
from ..parsing import fiscal_year_arg
from ..web import ServiceFailed, perform, require_view
from . import services
from .execution import budget_execution, execution_chart
from .forms import AdjustmentForm, AppropriationForm
from .lists import APPROPRIATIONS
from .models import Allocation, Appropriation, LedgerEntry
from .queries import default_year, fiscal_years

bp = Blueprint("budgets", __name__, url_prefix="/budgets")

_ROW = Markup('''<tr class="{}"><td>{}</td>
<td class="text-end" data-col="appropriated"{}>{}</td>
<td class="text-end" data-col="allocated"{}>{}</td>
<td class="text-end" data-col="committed"{}>{}</td>
<td class="text-end" data-col="paid"{}>{}</td>
<td class="text-end" data-col="remaining"{}>{}</td>
<td class="text-end">{}</td></tr>
''')
_EXACT = Markup(' data-yuan="{0}" title="{0:,}"')


@bp.app_template_global("figures_row")
def figures_row(line, cls: str = "", label=None, unit: str = "wan") -> Markup:
    """One row of a figures table (templates/budgets/_chart.html's head): a report draws
    one per group, so it is built here rather than by a template macro (a macro call and
    five money filters, each looking up the locale, cost several times as much).

    The figures are in 万元 (``unit="wan"``, the table's unit line says so) or in yuan with
    the currency sign (``unit="yuan"``); each cell keeps the exact yuan in ``data-yuan``
    and its tooltip."""
    fmt = format_wan if unit == "wan" else money_formatter()

    def cell(value) -> tuple:
        if value is None:
            return "", ""
        exact = to_money(value)
        return _EXACT.format(exact), fmt(exact)

    rate = line.rate
    return _ROW.format(cls, escape(line.label if label is None else label),
                       *cell(line.appropriated), *cell(line.allocated), *cell(line.committed), *cell(line.paid),
                       *cell(line.remaining), "—" if rate is None else f"{rate}%")

nav.register(NavItem(_l("Budgets"), "budgets.dashboard", "budget.view", group=nav.FUNDS_GROUP, order=20))
nav.register(NavItem(_l("Appropriations"), "budgets.appropriations", "budget.view", group=nav.FUNDS_GROUP,
                     order=21))

#: What modules above budgets add to the finance dashboard: each part is called with the
#: fiscal year and returns template context (projects adds ``waiting``, the projects
#: waiting for a budget check). Budgets imports none of those modules.
DASHBOARD_PARTS: list[Callable[[int], dict]] = []


def dashboard_part(part: Callable[[int], dict]) -> Callable[[int], dict]:
    if part not in DASHBOARD_PARTS:
        DASHBOARD_PARTS.append(part)
    return part


@bp.before_request
@login_required
def _signed_in():
    """Every finance page needs a signed-in user (each view checks its permission)."""


def _year_arg() -> int:
    return fiscal_year_arg(default_year)


@bp.route("/")
@pagecache.cached
def dashboard():
    require_view("budget.view")
    year = _year_arg()
    report = budget_execution(year)
    context = {"waiting": []}
    for part in DASHBOARD_PARTS:
        context.update(part(year))
    return render_template("budgets/dashboard.html", report=report, year=year, years=fiscal_years(),
                           chart=execution_chart(report), **context)


@bp.route("/appropriations")
@pagecache.cached
def appropriations():
    year = _year_arg()
    return listing.respond(APPROPRIATIONS, "budgets/appropriations.html", current_user, keep={"year": year},
                           year=year, years=fiscal_years())


def _appropriation_form() -> AppropriationForm:
    form = AppropriationForm()
    # The funding sources are seeded by the migration (and `flask budgets seed`, the
    # demo): a page that only shows a form never writes.
    form.source_id.choices = [SelectChoice("", "—")] + [SelectChoice(str(s.id), s.label)
                                                         for s in services.funding_sources()]
    form.department_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(d.id), d.name) for d in db.session.scalars(select(Department).order_by(Department.name))]
    # An unknown source typed into the request is refused by the service with a clear
    # message, not by the select's "not a valid choice".
    form.source_id.validate_choice = False
    form.department_id.validate_choice = False
    if request.method == "GET" and not form.fiscal_year.data:
        form.fiscal_year.data = str(_year_arg())
    return form


@bp.route("/appropriations/new", methods=["GET", "POST"])
def appropriation_new():
    require_view("budget.manage")
    form = _appropriation_form()
    status = 200
    if form.validate_on_submit():
        try:
            appr = perform(services.create_appropriation, current_user, source_id=form.source_id.data,
                           fiscal_year=form.fiscal_year.data, department_id=form.department_id.data,
                           amount=form.amount.data, reference=form.reference.data, form=form)
        except ServiceFailed:
            status = 400
        else:
            flash(_("Appropriation recorded."), "success")
            return redirect(url_for("budgets.appropriation", appr_id=appr.id))
    elif request.method == "POST":
        status = 400
    return render_template("budgets/appropriation_form.html", form=form), status


@bp.route("/appropriations/<int:appr_id>", methods=["GET", "POST"])
def appropriation(appr_id: int):
    require_view("budget.view")
    appr = db.get_or_404(Appropriation, appr_id)
    form = AdjustmentForm()
    status = 200
    if request.method == "POST":
        require_view("budget.manage")
        if form.validate_on_submit():
            try:
                perform(services.adjust_appropriation, current_user, appr, form.delta.data, form.reason.data,
                        form=form)
            except ServiceFailed:
                db.session.refresh(appr)
                status = 400
            else:
                flash(_("Adjustment recorded."), "success")
                return redirect(url_for("budgets.appropriation", appr_id=appr.id))
        else:
            status = 400
    allocations = db.session.scalars(select(Allocation).where(Allocation.appropriation_id == appr.id)
                                     .options(selectinload(Allocation.project)).order_by(Allocation.id)).all()
    ledger = db.session.scalars(select(LedgerEntry).where(LedgerEntry.appropriation_id == appr.id)
                                .order_by(LedgerEntry.id.desc()).limit(100)).all()
    return render_template("budgets/appropriation.html", appr=appr, form=form, allocations=allocations,
                           ledger=ledger), status
