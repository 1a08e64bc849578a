"""The budget execution report (DOMAIN.md §7): ONE function, :func:`budget_execution`,
computes the rows and totals with SQL GROUP BY; the web page, the xlsx and the PDF all take
their numbers from it. The figures by appropriation come from budgets
(``procure.budgets.execution``, which the finance dashboard shows); the project lines are
added here, above both budgets and projects.

Definitions: appropriated = the appropriation's amount after adjustments; allocated =
reserved for projects; committed = under contract; paid; remaining = appropriated −
allocated (what can still be allocated); execution rate = paid ÷ appropriated.
For a project row: remaining = allocated − paid, rate = paid ÷ allocated.
"""

from __future__ import annotations

from decimal import Decimal

from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import func, select

from ..auth.models import Department
from ..budgets.execution import ExecutionReport, Line, appropriation_filter
from ..budgets.execution import budget_execution as appropriation_figures
from ..budgets.models import Allocation, Appropriation, FundingSource
from ..extensions import db
from ..projects.models import Project

__all__ = ["PER_PAGE", "ExecutionReport", "Line", "budget_execution", "project_lines"]

#: Project lines shown at a time on the report page (the xlsx and the PDF keep every row).
PER_PAGE = 50


def budget_execution(year: int, source_id: int | None = None, department_id: int | None = None, *,
                     with_projects: bool = True) -> ExecutionReport:
    """Rows and totals of the budget execution report for ``year`` (optionally one
    funding source and/or one department). Two grouped queries whatever the data size
    (one without project rows)."""
    report = appropriation_figures(year, source_id, department_id)
    if with_projects and report.groups:
        prow = db.session.execute(
            select(Appropriation.source_id, Appropriation.department_id, Project.id, Project.title,
                   func.sum(Allocation.allocated), func.sum(Allocation.committed), func.sum(Allocation.paid))
            .join(Appropriation, Appropriation.id == Allocation.appropriation_id)
            .join(Project, Project.id == Allocation.project_id)
            .where(*appropriation_filter(year, source_id, department_id))
            .group_by(Appropriation.source_id, Appropriation.department_id, Project.id, Project.title)
            .order_by(Appropriation.source_id, Appropriation.department_id, Project.id)).all()
        for sid, did, pid, title, alloc, comm, paid in prow:
            report.projects.setdefault((sid, did), []).append(
                Line(title, None, Decimal(alloc), Decimal(comm), Decimal(paid), project_id=pid))
    return report


class _RowPagination(SelectPagination):
    """Flask-SQLAlchemy's pagination over rows of several columns (not ORM objects)."""

    def _query_items(self) -> list:
        select_ = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(select_))


def project_lines(year: int, source_id: int | None = None, department_id: int | None = None, *,
                  q: str | None = None, page: int = 1, per_page: int | None = None) -> SelectPagination:
    """One page (:data:`PER_PAGE` lines) of the report's project lines for ``year``
    (optionally one funding source, one department, and titles containing ``q``), in the
    report's order; its ``items`` are :class:`Line` with source and department names; a
    page past the end gives the last page. Two queries (the page and the count) whatever
    the data size: the report page shows the groups and loads these on demand."""
    where = appropriation_filter(year, source_id, department_id)
    if q:
        where.append(Project.title.icontains(q, autoescape=True))
    stmt = (select(FundingSource.name, Department.name, Project.id, Project.title,
                   func.sum(Allocation.allocated), func.sum(Allocation.committed), func.sum(Allocation.paid))
            .join(Appropriation, Appropriation.id == Allocation.appropriation_id)
            .join(FundingSource, FundingSource.id == Appropriation.source_id)
            .join(Department, Department.id == Appropriation.department_id)
            .join(Project, Project.id == Allocation.project_id)
            .where(*where)
            .group_by(FundingSource.id, FundingSource.name, FundingSource.position, Department.id, Department.name,
                      Project.id, Project.title)
            .order_by(FundingSource.position, Department.name, Project.id))
    pagination = _RowPagination(select=stmt, session=db.session, page=page, per_page=per_page or PER_PAGE,
                                error_out=False)
    if not pagination.items and pagination.page > pagination.pages > 0:  # a stale link past the end: the last page
        pagination = _RowPagination(select=stmt, session=db.session, page=pagination.pages,
                                    per_page=per_page or PER_PAGE, error_out=False)
    pagination.items = [Line(title, None, Decimal(alloc), Decimal(comm), Decimal(paid), source=sname,
                             department=dname, project_id=pid)
                        for sname, dname, pid, title, alloc, comm, paid in pagination.items]
    return pagination
