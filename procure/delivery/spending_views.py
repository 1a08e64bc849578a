"""The spending list (finance and officers): projects with their spending against the
approved breakdown, filtered by year and department, with a totals row. Each project
links to its spending report (``procure.reports.spending_views``)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import nav, pagecache
from ..auth.models import Department
from ..extensions import db
from ..parsing import page_arg, parse_id, parse_year
from ..permissions import require
from ..projects.models import Project
from ..web import require_view
from .spending import spending_list

bp = Blueprint("spending", __name__, url_prefix="/spending")

nav.register(nav.NavItem(_l("Spending"), "spending.index", "spending.list", group=nav.FUNDS_GROUP, order=24))


@bp.route("/")
@pagecache.cached
@login_required
def index():
    require_view("spending.list")
    require(current_user, "spending.list")
    year = parse_year(request.args.get("year"))
    department_id = parse_id(request.args.get("department"))
    q = request.args.get("q", "").strip()[:100]
    page, total = spending_list(current_user, year, department_id, q or None, page_arg())
    years = db.session.scalars(select(Project.fiscal_year).distinct().order_by(Project.fiscal_year.desc())).all()
    departments = db.session.scalars(select(Department).order_by(Department.name)).all()
    return render_template("spending/list.html", page=page, total=total, year=year, department_id=department_id,
                           q=q, years=years, departments=departments)
