"""The program summary (DOMAIN.md §7) of the kind annual replies quote: projects, funds
by source, matching funds, beneficiaries targeted and served, by year and service
category; registered organizations by type — all from data entered through the system.

Definitions: a *funded* project is one with money allocated and not cancelled; funds are
the amounts allocated to it (reserved from appropriations). A *centrally funded* project
has an allocation from the central special fund (中央财政专项); its *matching funds* are
its allocations from every other source (local budget, lottery fund, matching fund).
Beneficiaries targeted are the targets marked "counts beneficiaries"; beneficiaries
served come from the project's own field until milestone reports record actuals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, or_, select

from ..budgets.models import ZERO, Allocation, Appropriation, FundingSource
from ..extensions import db
from ..organizations.models import Organization, OrgKind, RegStatus
from ..projects.models import PerformanceTarget, Project, ProjectState, ServiceCategory

CENTRAL = "central"


@dataclass
class SummaryRow:
    year: int
    category: str
    projects: int = 0
    funds: dict[str, Decimal] = field(default_factory=dict)
    targeted: Decimal = ZERO
    served: int = 0

    @property
    def total_funds(self) -> Decimal:
        return sum(self.funds.values(), ZERO)


@dataclass
class ProgramSummary:
    year_from: int
    year_to: int
    rows: list[SummaryRow]
    sources: list[FundingSource]
    central_projects: int
    central_funds: Decimal
    matching_funds: Decimal
    beneficiaries_served: int
    beneficiaries_targeted: Decimal
    organizations: dict[str, int]

    @property
    def registered_organizations(self) -> int:
        return sum(n for kind, n in self.organizations.items() if kind != OrgKind.FILED.value)

    def funds_by_source(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {s.code: ZERO for s in self.sources}
        for r in self.rows:
            for code, amount in r.funds.items():
                out[code] += amount
        return out


def _funded():
    return Project.state != ProjectState.CANCELLED


def program_summary(year_from: int, year_to: int, category_id: int | None = None) -> ProgramSummary:
    """Five grouped queries whatever the data size."""
    where = [Project.fiscal_year.between(year_from, year_to), _funded()]
    if category_id:
        where.append(Project.category_id == category_id)
    sources = list(db.session.scalars(select(FundingSource).order_by(FundingSource.position)))
    rows: dict[tuple, SummaryRow] = {}

    def row(year, cat) -> SummaryRow:
        if (year, cat) not in rows:
            rows[(year, cat)] = SummaryRow(year, cat, funds={s.code: ZERO for s in sources})
        return rows[(year, cat)]

    funds = db.session.execute(
        select(Project.fiscal_year, ServiceCategory.name, FundingSource.code, func.sum(Allocation.allocated),
               func.count(func.distinct(Project.id)))
        .join(Appropriation, Appropriation.id == Allocation.appropriation_id)
        .join(FundingSource, FundingSource.id == Appropriation.source_id)
        .join(Project, Project.id == Allocation.project_id)
        .join(ServiceCategory, ServiceCategory.id == Project.category_id)
        .where(*where, Allocation.allocated > 0)
        .group_by(Project.fiscal_year, ServiceCategory.name, FundingSource.code))
    for year, cat, code, amount, _n in funds:
        row(year, cat).funds[code] = Decimal(amount)
    funded_ids = select(Allocation.project_id).where(Allocation.allocated > 0)
    counts = db.session.execute(
        select(Project.fiscal_year, ServiceCategory.name, func.count(Project.id),
               func.coalesce(func.sum(Project.beneficiaries_served), 0))
        .join(ServiceCategory, ServiceCategory.id == Project.category_id)
        .where(*where, Project.id.in_(funded_ids))
        .group_by(Project.fiscal_year, ServiceCategory.name))
    for year, cat, n, served in counts:
        r = row(year, cat)
        r.projects, r.served = n, int(served)
    targeted = db.session.execute(
        select(Project.fiscal_year, ServiceCategory.name, func.sum(PerformanceTarget.target_value))
        .join(Project, Project.id == PerformanceTarget.project_id)
        .join(ServiceCategory, ServiceCategory.id == Project.category_id)
        .where(*where, PerformanceTarget.is_beneficiaries.is_(True), Project.id.in_(funded_ids))
        .group_by(Project.fiscal_year, ServiceCategory.name))
    for year, cat, total in targeted:
        row(year, cat).targeted = Decimal(total)

    # Centrally funded projects: per project, its central and its other allocations.
    is_central = FundingSource.code == CENTRAL
    per_project = (
        select(Project.id.label("pid"), Project.beneficiaries_served.label("served"),
               func.sum(case((is_central, Allocation.allocated), else_=0)).label("central"),
               func.sum(case((is_central, 0), else_=Allocation.allocated)).label("matching"))
        .join(Appropriation, Appropriation.id == Allocation.appropriation_id)
        .join(FundingSource, FundingSource.id == Appropriation.source_id)
        .join(Project, Project.id == Allocation.project_id)
        .where(*where)
        .group_by(Project.id, Project.beneficiaries_served)).subquery()
    n, central, matching, served = db.session.execute(
        select(func.count(per_project.c.pid), func.coalesce(func.sum(per_project.c.central), 0),
               func.coalesce(func.sum(per_project.c.matching), 0),
               func.coalesce(func.sum(per_project.c.served), 0))
        .where(per_project.c.central > 0)).one()
    # Organizations registered (or filed) by the end of the period and not since
    # deregistered or revoked: the registry keeps the current status only.
    orgs = dict(db.session.execute(
        select(Organization.kind, func.count())
        .where(Organization.status == RegStatus.NORMAL,
               or_(Organization.registration_date.is_(None),
                   Organization.registration_date <= date(year_to, 12, 31)))
        .group_by(Organization.kind)).all())
    ordered = sorted(rows.values(), key=lambda r: (r.year, r.category))
    return ProgramSummary(
        year_from, year_to, ordered, sources, int(n), Decimal(central), Decimal(matching), int(served),
        sum((r.targeted for r in ordered), ZERO),
        {k.value: int(orgs.get(k, 0)) for k in OrgKind})
