"""The budget execution report's figures by appropriation (DOMAIN.md §7), which the
finance dashboard shows: :func:`budget_execution` computes the rows and totals with SQL
GROUP BY; ``procure.reports.execution`` adds the project lines, and the web page, the xlsx
and the PDF all take their numbers from there.

Definitions: appropriated = the appropriation's amount after adjustments; allocated =
reserved for projects; committed = under contract; paid; remaining = appropriated −
allocated (what can still be allocated); execution rate = paid ÷ appropriated.
For a project row: remaining = allocated − paid, rate = paid ÷ allocated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select

from ..auth.models import Department
from ..charts import bar_chart_svg, responsive
from ..extensions import db
from ..timeutil import utcnow
from .models import SOURCE_LABELS, ZERO, Appropriation, FundingSource


def rate(part: Decimal, whole: Decimal) -> Decimal | None:
    """part ÷ whole as a percentage with one decimal, or None when whole is zero."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Line:
    """One row of figures. ``appropriated`` is None on project rows."""

    label: str
    appropriated: Decimal | None
    allocated: Decimal
    committed: Decimal
    paid: Decimal
    source: str = ""
    department: str = ""
    project_id: int | None = None
    key: tuple = ()

    @property
    def remaining(self) -> Decimal:
        if self.appropriated is None:
            return self.allocated - self.paid
        return self.appropriated - self.allocated

    @property
    def rate(self) -> Decimal | None:
        return rate(self.paid, self.allocated if self.appropriated is None else self.appropriated)


@dataclass
class ExecutionReport:
    year: int
    source_id: int | None
    department_id: int | None
    #: One line per funding source × department (appropriations).
    groups: list[Line] = field(default_factory=list)
    #: Project lines per (source id, department id).
    projects: dict[tuple, list[Line]] = field(default_factory=dict)
    by_source: list[Line] = field(default_factory=list)
    by_department: list[Line] = field(default_factory=list)
    total: Line | None = None
    generated_at: datetime | None = None
    source_name: str = ""
    department_name: str = ""

    def filter_text(self) -> str:
        parts = [str(self.year)]
        if self.source_name:
            parts.append(self.source_name)
        if self.department_name:
            parts.append(self.department_name)
        return " · ".join(parts)


def _sum(lines: list[Line], label: str, key=()) -> Line:
    return Line(label, sum((x.appropriated or ZERO for x in lines), ZERO), sum((x.allocated for x in lines), ZERO),
                sum((x.committed for x in lines), ZERO), sum((x.paid for x in lines), ZERO), key=key)


def appropriation_filter(year: int, source_id: int | None = None, department_id: int | None = None) -> list:
    """The conditions on ``Appropriation`` that select the report's rows."""
    where = [Appropriation.fiscal_year == year]
    if source_id:
        where.append(Appropriation.source_id == source_id)
    if department_id:
        where.append(Appropriation.department_id == department_id)
    return where


def budget_execution(year: int, source_id: int | None = None, department_id: int | None = None) -> ExecutionReport:
    """Rows and totals of the budget execution report for ``year`` (optionally one
    funding source and/or one department), by appropriation: one grouped query whatever
    the data size. The report's project lines are added above budgets
    (``procure.reports.execution``), which knows projects."""
    report = ExecutionReport(year, source_id, department_id, generated_at=utcnow())
    where = appropriation_filter(year, source_id, department_id)
    rows = db.session.execute(
        select(FundingSource.id, FundingSource.code, FundingSource.name, Department.id, Department.name,
               func.sum(Appropriation.amount), func.sum(Appropriation.allocated),
               func.sum(Appropriation.committed), func.sum(Appropriation.paid))
        .join(FundingSource, FundingSource.id == Appropriation.source_id)
        .join(Department, Department.id == Appropriation.department_id)
        .where(*where)
        .group_by(FundingSource.id, FundingSource.name, FundingSource.position, Department.id, Department.name)
        .order_by(FundingSource.position, Department.name)).all()
    for sid, scode, sname, did, dname, amount, alloc, comm, paid in rows:
        sname = str(SOURCE_LABELS.get(scode, sname))  # the source in the reader's language
        report.groups.append(Line(f"{sname} · {dname}", Decimal(amount), Decimal(alloc), Decimal(comm),
                                  Decimal(paid), source=sname, department=dname, key=(sid, did)))
        if source_id == sid:
            report.source_name = sname
        if department_id == did:
            report.department_name = dname
    by_source: dict = {}
    by_dep: dict = {}
    for line in report.groups:
        by_source.setdefault((line.key[0], line.source), []).append(line)
        by_dep.setdefault((line.key[1], line.department), []).append(line)
    report.by_source = [_sum(lines, name, (sid,)) for (sid, name), lines in by_source.items()]
    report.by_department = sorted((_sum(lines, name, (did,)) for (did, name), lines in by_dep.items()),
                                  key=lambda x: x.label)
    report.total = _sum(report.groups, "")
    return report


def execution_chart(report: ExecutionReport, width: int | None = None, height: int = 300) -> Markup:
    """The report's chart (by funding source), drawn on the server: the finance dashboard,
    the report page (wide and narrow, :func:`procure.charts.responsive`, when no ``width``
    is given) and the PDF show the same figures."""
    lines = report.by_source

    def draw(w: int, h: int) -> Markup:
        return bar_chart_svg(
            [line.label for line in lines],
            {_("Appropriated"): [x.appropriated for x in lines], _("Allocated"): [x.allocated for x in lines],
             _("Committed"): [x.committed for x in lines], _("Paid"): [x.paid for x in lines]},
            width=w, height=h, empty_message=_("No appropriations match the filter."), unit="wan",
            unit_label=_("Unit: 10,000 yuan"))
    return draw(width, height) if width else responsive(draw, height)
