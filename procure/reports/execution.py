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

from sqlalchemy import func, select

from ..budgets.execution import ExecutionReport, Line, appropriation_filter
from ..budgets.execution import budget_execution as appropriation_figures
from ..budgets.models import Allocation, Appropriation
from ..extensions import db
from ..projects.models import Project

__all__ = ["ExecutionReport", "Line", "budget_execution"]


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
