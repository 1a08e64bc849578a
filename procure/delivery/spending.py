"""Spending against the approved breakdown (DOMAIN.md §3 Expenditure, §7 Project spending).

ONE function computes the figures, :func:`spending_for_contracts`, with one SQL aggregate
(``UNION ALL`` of the approved breakdown and the reported spending, grouped by contract,
category and report state); the project page, the xlsx and the PDF all take their
numbers from it, so their totals are the same.

Definitions (what finance expects):

* **approved** — the contract's approved breakdown (``BudgetLine``, copied from the
  awarded bid when the contract enters force). A contract without budget lines has
  "no approved breakdown": no variance is computed.
* **confirmed** — spending lines of APPROVED milestone reports: reviewed by the officer,
  the figure finance relies on.
* **pending** — spending lines of SUBMITTED reports: reported, pending review. Drafts and
  reports sent back for revision do not count.
* **variance** = confirmed − approved (negative: under budget), and its share of the
  approved amount in percent (None when nothing was approved in the category).
* **administrative-cost cap** — policy ``budget.max_admin_cost_share`` (default 10%) of
  the contract amount; flagged when confirmed administrative spending exceeds it, and
  warned when confirmed plus pending would.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import String, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.orm import joinedload

from .. import policy
from ..auth.models import Department
from ..charts import bar_chart_svg, responsive
from ..contracts.models import Contract, ContractState
from ..errors import NotPermitted
from ..extensions import db
from ..permissions import can, define, own_department, own_organization, role_in, visible
from ..projects.models import Project
from ..roles import Role
from ..tenders.bidding import BREAKDOWN_CATEGORIES
from ..timeutil import utcnow
from .models import BudgetLine, MilestoneReport, ReportState, SpendingLine

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ADMIN = "admin"
#: Contracts whose spending counts (a draft or unsigned contract has none).
IN_FORCE_OR_ENDED = (ContractState.ACTIVE, ContractState.COMPLETED, ContractState.TERMINATED)
#: Projects per page of the spending list.
PER_PAGE = 50

#: Finance and admin see every contract's spending; an officer those of the department;
#: an organization only its own contracts.
define("spending.view", {Role.ADMIN, Role.FINANCE, Role.OFFICER, Role.ORG},
       role_in(Role.ADMIN, Role.FINANCE) | own_department() | own_organization(), model=Contract)
#: The list of projects with their spending (staff).
define("spending.list", {Role.ADMIN, Role.FINANCE, Role.OFFICER})


def category_label(code: str) -> str:
    label = BREAKDOWN_CATEGORIES.get(code)
    return str(label) if label is not None else code


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` ÷ ``whole`` in percent with one decimal (Decimal, half up); None for 0."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class CategoryLine:
    category: str
    approved: Decimal = ZERO
    confirmed: Decimal = ZERO
    pending: Decimal = ZERO

    @property
    def label(self) -> str:
        return category_label(self.category)

    @property
    def reported(self) -> Decimal:
        """Confirmed plus pending."""
        return self.confirmed + self.pending

    @property
    def variance(self) -> Decimal:
        return self.confirmed - self.approved

    @property
    def variance_pct(self) -> Decimal | None:
        return percent(self.variance, self.approved)


@dataclass
class ContractSpending:
    """One contract's spending by category against its approved breakdown."""

    contract_id: int
    number: str
    title: str
    organization: str
    amount: Decimal
    lines: list[CategoryLine] = field(default_factory=list)
    has_breakdown: bool = False
    cap_share: Decimal = Decimal("0.10")

    @property
    def total(self) -> CategoryLine:
        t = CategoryLine("total")
        for ln in self.lines:
            t.approved += ln.approved
            t.confirmed += ln.confirmed
            t.pending += ln.pending
        return t

    def _line(self, category: str) -> CategoryLine:
        return next((ln for ln in self.lines if ln.category == category), CategoryLine(category))

    @property
    def admin_cap(self) -> Decimal:
        """The most the organization may spend on administrative costs (policy share of
        the contract amount)."""
        return (self.amount * self.cap_share).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def admin_confirmed(self) -> Decimal:
        return self._line(ADMIN).confirmed

    @property
    def admin_reported(self) -> Decimal:
        return self._line(ADMIN).reported

    @property
    def admin_over_cap(self) -> bool:
        """Confirmed administrative spending exceeds the cap."""
        return self.admin_confirmed > self.admin_cap

    @property
    def admin_over_cap_if_approved(self) -> bool:
        """Not over yet, but would be once the pending reports are approved."""
        return not self.admin_over_cap and self.admin_reported > self.admin_cap

    @property
    def admin_share_pct(self) -> Decimal | None:
        return percent(self.admin_confirmed, self.amount)


@dataclass
class ProjectSpending:
    """A project's spending: one entry per contract (normally one), and the totals."""

    project_id: int
    title: str
    fiscal_year: int
    department: str
    contracts: list[ContractSpending]
    generated_at: object = None

    @property
    def total(self) -> CategoryLine:
        t = CategoryLine("total")
        for c in self.contracts:
            ct = c.total
            t.approved += ct.approved
            t.confirmed += ct.confirmed
            t.pending += ct.pending
        return t

    @property
    def has_breakdown(self) -> bool:
        return any(c.has_breakdown for c in self.contracts)


def cap_share() -> Decimal:
    return Decimal(str(policy.value("budget.max_admin_cost_share")))


def _figures(contract_ids: Iterable[int]) -> list[tuple[int, str, str, Decimal]]:
    """(contract id, category, kind, amount) — kind "approved", "confirmed" or "pending" —
    for ``contract_ids``: ONE statement (UNION ALL of two GROUP BYs)."""
    ids = list(contract_ids)
    if not ids:
        return []
    budget = (select(BudgetLine.contract_id.label("cid"), BudgetLine.category.label("cat"),
                     cast(literal("approved"), String).label("kind"), func.sum(BudgetLine.amount).label("amount"))
              .where(BudgetLine.contract_id.in_(ids))
              .group_by(BudgetLine.contract_id, BudgetLine.category))
    kind = case((MilestoneReport.state == ReportState.APPROVED, literal("confirmed")), else_=literal("pending"))
    spent = (select(SpendingLine.contract_id, SpendingLine.category, cast(kind, String),
                    func.sum(SpendingLine.amount))
             .join(MilestoneReport, MilestoneReport.id == SpendingLine.report_id)
             .where(SpendingLine.contract_id.in_(ids),
                    MilestoneReport.state.in_((ReportState.SUBMITTED, ReportState.APPROVED)))
             .group_by(SpendingLine.contract_id, SpendingLine.category, kind))
    return [(cid, cat, k, Decimal(amount)) for cid, cat, k, amount in
            db.session.execute(union_all(budget, spent))]


def _order(category: str) -> tuple[int, str]:
    keys = list(BREAKDOWN_CATEGORIES)
    return (keys.index(category) if category in keys else len(keys), category)


def spending_for_contracts(contracts: list[Contract]) -> list[ContractSpending]:
    """The spending of each of ``contracts`` by category (every category of
    ``BREAKDOWN_CATEGORIES`` listed, plus any other found). One aggregate statement."""
    share = cap_share()
    out = {c.id: ContractSpending(c.id, c.number, c.title, c.organization.name if c.organization else "",
                                  c.amount, cap_share=share) for c in contracts}
    lines: dict[tuple[int, str], CategoryLine] = {}
    for cid in out:
        for cat in BREAKDOWN_CATEGORIES:
            lines[(cid, cat)] = CategoryLine(cat)
    for cid, cat, kind, amount in _figures(out):
        ln = lines.setdefault((cid, cat), CategoryLine(cat))
        setattr(ln, kind, getattr(ln, kind) + amount)
        if kind == "approved":
            out[cid].has_breakdown = True
    for (cid, _cat), ln in sorted(lines.items(), key=lambda kv: (kv[0][0], _order(kv[0][1]))):
        out[cid].lines.append(ln)
    return list(out.values())


def project_contracts(project: Project) -> list[Contract]:
    """The contracts of ``project`` that are or were in force, with their organization."""
    return list(db.session.scalars(select(Contract).options(joinedload(Contract.organization))
                                   .where(Contract.project_id == project.id, Contract.state.in_(IN_FORCE_OR_ENDED))
                                   .order_by(Contract.id)))


def project_spending(project: Project) -> ProjectSpending:
    """The project spending report's figures (no permission check: callers check)."""
    return ProjectSpending(project.id, project.title, project.fiscal_year,
                           project.department.name if project.department else "",
                           spending_for_contracts(project_contracts(project)), utcnow())


def may_view_project(user, project: Project) -> bool:
    """Whether ``user`` may see ``project``'s spending: staff by ``spending.view`` on any
    of its contracts; an organization only when one of them is its own."""
    contracts = project_contracts(project)
    return bool(contracts) and any(can(user, "spending.view", c) for c in contracts)


def spending_chart(report: ProjectSpending, width: int | None = None, height: int = 260) -> Markup:
    """Approved, confirmed and pending by category (page and PDF share it)."""
    totals: dict[str, CategoryLine] = {}
    for c in report.contracts:
        for ln in c.lines:
            t = totals.setdefault(ln.category, CategoryLine(ln.category))
            t.approved += ln.approved
            t.confirmed += ln.confirmed
            t.pending += ln.pending
    cats = sorted(totals, key=_order)
    series = {_("Approved budget"): [totals[c].approved for c in cats],
              _("Confirmed spending"): [totals[c].confirmed for c in cats],
              _("Reported, pending review"): [totals[c].pending for c in cats]}

    def draw(w: int, h: int) -> Markup:
        return bar_chart_svg([category_label(c) for c in cats], series, width=w, height=h,
                             empty_message=_("No spending reported yet."), unit="wan",
                             unit_label=_("Unit: 10,000 yuan"))
    return draw(width, height) if width else responsive(draw, height)


# --- the list of projects ---------------------------------------------------------------

@dataclass
class ProjectRow:
    project_id: int
    title: str
    fiscal_year: int
    department: str
    approved: Decimal
    confirmed: Decimal
    pending: Decimal
    contract_amount: Decimal
    admin_confirmed: Decimal

    @property
    def variance(self) -> Decimal:
        return self.confirmed - self.approved

    @property
    def variance_pct(self) -> Decimal | None:
        return percent(self.variance, self.approved)

    @property
    def admin_over_cap(self) -> bool:
        return self.admin_confirmed > (self.contract_amount * cap_share()).quantize(CENT, rounding=ROUND_HALF_UP)


def _per_contract():
    """Per contract: approved, confirmed, pending, confirmed admin — a subquery of two
    grouped subqueries (no per-row queries)."""
    budget = (select(BudgetLine.contract_id.label("cid"), func.sum(BudgetLine.amount).label("approved"))
              .group_by(BudgetLine.contract_id).subquery())
    approved = MilestoneReport.state == ReportState.APPROVED
    spent = (select(SpendingLine.contract_id.label("cid"),
                    func.sum(case((approved, SpendingLine.amount), else_=0)).label("confirmed"),
                    func.sum(case((approved, 0), else_=SpendingLine.amount)).label("pending"),
                    func.sum(case((and_(approved, SpendingLine.category == ADMIN), SpendingLine.amount),
                                  else_=0)).label("admin"))
             .join(MilestoneReport, MilestoneReport.id == SpendingLine.report_id)
             .where(MilestoneReport.state.in_((ReportState.SUBMITTED, ReportState.APPROVED)))
             .group_by(SpendingLine.contract_id).subquery())
    return budget, spent


def _list_where(user, year: int | None, department_id: int | None, q: str | None):
    where = [Contract.state.in_(IN_FORCE_OR_ENDED)]
    if year:
        where.append(Project.fiscal_year == year)
    if department_id:
        where.append(Project.department_id == department_id)
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        where.append(or_(Project.title.ilike(like), Contract.number.ilike(like)))
    return where


@dataclass
class Page:
    """One page of rows (the ``pager`` macro's interface)."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def iter_pages(self):
        return range(1, self.pages + 1)


def spending_list(user, year: int | None = None, department_id: int | None = None, q: str | None = None,
                  page: int = 1) -> tuple[Page, ProjectRow]:
    """Projects with spending against the approved breakdown, one page, and the totals
    row over every project the filter selects (with their count). Two queries whatever
    the data size."""
    budget, spent = _per_contract()

    def c0(col):
        return func.coalesce(func.sum(col), 0)

    base = (select(Project.id, Project.title, Project.fiscal_year, Department.name,
                   c0(budget.c.approved).label("approved"), c0(spent.c.confirmed).label("confirmed"),
                   c0(spent.c.pending).label("pending"), c0(Contract.amount).label("amount"),
                   c0(spent.c.admin).label("admin"))
            .select_from(Contract)
            .join(Project, Project.id == Contract.project_id)
            .join(Department, Department.id == Project.department_id)
            .outerjoin(budget, budget.c.cid == Contract.id)
            .outerjoin(spent, spent.c.cid == Contract.id)
            .where(*_list_where(user, year, department_id, q))
            .group_by(Project.id, Project.title, Project.fiscal_year, Department.name))
    base = visible(user, "spending.view", base, Contract)
    page = max(1, page)
    keys = ("approved", "confirmed", "pending", "amount", "admin")
    # The page's rows and, on each of them, the count and the sums over every row the filter
    # selects (window functions over the grouped rows, evaluated before LIMIT): the lines
    # are aggregated once, not once for the page and again for the totals row.
    inner = base.subquery()
    windowed = select(inner, func.count().over().label("n"),
                      *(func.sum(inner.c[k]).over().label(f"all_{k}") for k in keys))
    found = db.session.execute(windowed.order_by(inner.c.fiscal_year.desc(), inner.c.id.desc())
                               .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    rows = [ProjectRow(*(Decimal(v) if i >= 4 else v for i, v in enumerate(r[:9]))) for r in found]
    if found:
        n, *sums = found[0][9:]
    else:  # a page past the last: the totals on their own
        n, *sums = db.session.execute(select(func.count(), *(func.coalesce(func.sum(inner.c[k]), 0) for k in keys))
                                      .select_from(inner)).one()
    total = ProjectRow(0, str(_("Total")), 0, "", *(Decimal(v) for v in sums))
    return Page(rows, page, PER_PAGE, int(n)), total


__all__ = ["CategoryLine", "ContractSpending", "Page", "ProjectRow", "ProjectSpending", "percent",
           "project_spending", "spending_chart", "spending_for_contracts", "spending_list"]


def require_project_spending(user, project: Project | None) -> ProjectSpending:
    """The project's spending for ``user``, or NotPermitted: staff of its department,
    finance and admin; an organization only for its own contract's project."""
    if project is None or not may_view_project(user, project):
        raise NotPermitted(_("You may not see this project's spending."))
    return project_spending(project)
