"""The appropriations list (procure.listing) of one fiscal year, and the department
choices the lists' filters share."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import listing as L
from .. import refcache
from ..auth.models import Department
from ..extensions import db
from .models import SOURCE_LABELS, Appropriation, FundingSource


def departments() -> list[tuple[int, str]]:
    """(id, name) of every department, by name: the department filter of the lists."""
    return refcache.cached("departments", ("departments",), lambda: [tuple(r) for r in db.session.execute(
        select(Department.id, Department.name).order_by(Department.name))])


def department_filter(column) -> L.Filter:
    """The lists' filter by department (``column`` the list's department id)."""
    return L.id_filter("department", _l("Department"), column, departments)


def sources() -> list[tuple[int, str]]:
    """(id, name in the reader's language) of each funding source, in their order (the rows
    kept per worker, the label chosen per request)."""
    rows = refcache.cached("funding_sources", ("funding_sources",), lambda: [tuple(r) for r in db.session.execute(
        select(FundingSource.id, FundingSource.code, FundingSource.name).order_by(FundingSource.position))])
    return [(sid, SOURCE_LABELS.get(code, name)) for sid, code, name in rows]


SOURCE_POSITION = L.related(Appropriation.source_id, FundingSource.id, FundingSource.position)
DEPARTMENT_NAME = L.related(Appropriation.department_id, Department.id, Department.name)

APPROPRIATIONS = L.ListSpec(
    name="appropriations", title=_l("Appropriations"), model=Appropriation, row_attr="appropriation",
    permission="budget.view",
    # budget.view is a role check (finance and admin see every appropriation).
    base=lambda user: select(Appropriation),
    columns=[
        L.col("source", _l("Funding source"), SOURCE_POSITION, path="source.label",
              link=("budgets.appropriation", "appr_id", lambda a: a.id)),
        L.col("department", _l("Department"), DEPARTMENT_NAME, path="department.name"),
        L.col("reference", _l("Reference"), Appropriation.reference),
        L.col("amount", _l("Appropriated"), Appropriation.amount, kind=L.MONEY),
        L.col("allocated", _l("Allocated"), Appropriation.allocated, kind=L.MONEY),
        L.col("committed", _l("Committed"), Appropriation.committed, kind=L.MONEY),
        L.col("paid", _l("Paid"), Appropriation.paid, kind=L.MONEY),
        L.col("remaining", _l("Remaining"), Appropriation.amount - Appropriation.allocated, kind=L.MONEY),
    ],
    filters=[
        L.id_filter("source", _l("Funding source"), Appropriation.source_id, sources),
        department_filter(Appropriation.department_id),
    ],
    search=lambda q: L.search_clause(q, DEPARTMENT_NAME, Appropriation.reference),
    search_label=_l("Department or reference"),
    default_sort="source", empty=_l("No appropriations for this year."), per_page=100,
    # The page's fiscal year (the view's kept ``year``).
    fixed=lambda keep: [Appropriation.fiscal_year == int(keep["year"])],
)
