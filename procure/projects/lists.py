"""The project list (procure.listing): its columns, filters, search and sort, over the
projects the user may see (``project.view``'s filter)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import listing as L
from .. import refcache
from ..auth.models import Department
from ..budgets.lists import department_filter
from ..budgets.models import Allocation
from ..extensions import db
from ..permissions import visible
from .models import Project, ProjectState, ServiceCategory
from .services import project_totals

#: The money allocated to a project (all its allocations), for sorting and the total.
ALLOCATED = (select(func.coalesce(func.sum(Allocation.allocated), 0))
             .where(Allocation.project_id == Project.id).correlate(Project).scalar_subquery())
DEPARTMENT_NAME = select(Department.name).where(Department.id == Project.department_id) \
    .correlate(Project).scalar_subquery()
CATEGORY_NAME = select(ServiceCategory.name).where(ServiceCategory.id == Project.category_id) \
    .correlate(Project).scalar_subquery()


def categories() -> list[tuple[int, str]]:
    return refcache.cached("service_categories", ("service_categories",), lambda: [tuple(r) for r in db.session.execute(
        select(ServiceCategory.id, ServiceCategory.name).order_by(ServiceCategory.code))])


def years() -> list[tuple[int, int]]:
    return refcache.cached("projects.years", ("projects",), lambda: [(y, y) for y in db.session.scalars(
        select(Project.fiscal_year).distinct().order_by(Project.fiscal_year.desc()))])


def _extras(items) -> dict:
    return {pid: {"allocated": t[0]} for pid, t in project_totals([p.id for p in items]).items()}


PROJECTS = L.ListSpec(
    name="projects", title=_l("Projects"), model=Project, row_attr="project", permission="project.list",
    base=lambda user: visible(user, "project.view", Project),
    columns=[
        L.col("title", _l("Title"), Project.title, link=("projects.detail", "project_id", lambda p: p.id)),
        L.col("department", _l("Department"), DEPARTMENT_NAME, path="department.name"),
        L.col("category", _l("Category"), CATEGORY_NAME, path="category.name"),
        L.col("fiscal_year", _l("Fiscal year"), Project.fiscal_year, kind=L.NUMBER),
        L.col("state", _l("State"), Project.state, kind=L.STATE),
        L.col("budget_ceiling", _l("Budget ceiling"), Project.budget_ceiling, kind=L.MONEY),
        L.Column("allocated", _l("Allocated"), lambda p, e: e.get("allocated", 0), ALLOCATED, kind=L.MONEY),
    ],
    filters=[
        L.state_filter(Project.state, ProjectState),
        L.id_filter("year", _l("Fiscal year"), Project.fiscal_year, years),
        department_filter(Project.department_id),
        L.id_filter("category", _l("Category"), Project.category_id, categories),
    ],
    search=lambda q: L.search_clause(q, Project.title, Project.service_area, Project.target_group),
    search_label=_l("Title, area or target group"),
    default_sort="-fiscal_year", empty=_l("No projects."),
    extras=_extras,
)
