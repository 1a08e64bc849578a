"""The organization list (procure.listing) over the organizations the user may see
(``organization.view``'s filter): search by name or credit code, filters by type, rating,
credit standing, registration authority, incubation base and missing annual report.

The registry is large (the seed city holds 17,343 organizations; a national registry far
more), so two things keep the page's cost flat (docs/benchmarks-registry.md,
bench/bench_list.py):

- the search is :func:`services.search_clause`, served on PostgreSQL by the trigram
  indexes (3 characters or more) and by the names' 1- and 2-character grams (shorter);
- the count stops at :data:`COUNT_CAP` (``ListSpec.count_cap``): an exact count would read
  every matching row on every page view, the whole registry when unfiltered.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select

from .. import listing as L
from .. import refcache
from ..extensions import db
from ..permissions import visible
from ..timeutil import local_today
from . import bases, services
from .models import CreditStanding, IncubationBase, Organization, OrgKind

#: The list counts its matches up to this many and shows "10,000+" beyond.
COUNT_CAP = 10_000
#: Annual-report years offered in the "missing annual report" filter (the latest due first).
REPORT_YEARS = 3


def registration_authorities() -> list[str]:
    """The distinct registration authorities (the list's drop-down), kept per worker
    (``procure.refcache``): the DISTINCT reads the whole table, and the answer changes
    with imports only."""
    return refcache.cached("organizations.authorities", ("organizations",), lambda: db.session.scalars(
        select(Organization.registration_authority).distinct().where(
            Organization.registration_authority.is_not(None)).order_by(Organization.registration_authority)).all())


#: Credit standing sorted by gravity (normal, abnormal-activity list, serious dishonesty
#: list), not by the stored word.
STANDING_ORDER = case({s.value: i for i, s in enumerate(CreditStanding)}, value=Organization.credit_standing)


def _rating(stmt, value: str):
    if value == "none":
        return stmt.where(Organization.rating_level.is_(None))
    return stmt.where(Organization.rating_level == int(value))


def _report_years() -> list[tuple[int, str]]:
    last = services.last_due_year(local_today())
    return [(y, str(y)) for y in range(last, last - REPORT_YEARS, -1)]


def _bases() -> list[tuple[int, str]]:
    return [(r.id, r.name) for r in db.session.execute(
        select(IncubationBase.id, IncubationBase.name).order_by(IncubationBase.name))]


ORGANIZATIONS = L.ListSpec(
    name="organizations", title=_l("Organizations"), model=Organization, row_attr="org",
    permission="organization.list",
    base=lambda user: visible(user, "organization.view", Organization),
    columns=[
        L.col("name", _l("Name"), Organization.name, link=("organizations.detail", "org_id", lambda o: o.id)),
        L.col("credit_code", _l("Credit code"), Organization.credit_code),
        L.col("kind", _l("Type"), Organization.kind),
        L.col("registration_authority", _l("Registration authority"), Organization.registration_authority),
        L.col("rating", _l("Rating"), Organization.rating_level, path="rating_label"),
        L.col("credit_standing", _l("Credit standing"), STANDING_ORDER, kind=L.STATE),
    ],
    filters=[
        L.Filter("kind", _l("Type"), lambda stmt, v: stmt.where(Organization.kind == OrgKind(v)),
                 choices=lambda: [(k.value, k.label) for k in OrgKind]),
        L.Filter("rating", _l("Rating"), _rating,
                 choices=lambda: [("none", _l("Not rated"))] + [(str(i), f"{i}A") for i in range(5, 0, -1)]),
        L.Filter("standing", _l("Credit standing"),
                 lambda stmt, v: stmt.where(Organization.credit_standing == CreditStanding(v)),
                 choices=lambda: [(s.value, s.label) for s in CreditStanding]),
        L.Filter("authority", _l("Registration authority"),
                 lambda stmt, v: stmt.where(Organization.registration_authority == v),
                 choices=lambda: [(a, a) for a in registration_authorities()]),
        L.Filter("base", _l("Incubation base"), bases.current_base_filter, kind="id", choices=_bases),
        #: Organizations that owe the annual report of this year (the officers' reminder links here).
        L.Filter("missing_report", _l("Annual report not filed"),
                 lambda stmt, year: stmt.where(services._must_report_clause(year)), kind="year",
                 choices=_report_years),
    ],
    search=services.search_clause, search_label=_l("Name or credit code"),
    default_sort="name", count_cap=COUNT_CAP, empty=_l("No organizations match."),
)
