"""The incubation bases list (procure.listing), over the bases the user may see
(``base.view``'s filter)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import listing as L
from ..extensions import db
from ..permissions import visible
from .models import IncubationBase, Organization, Residency

OPERATOR_NAME = L.related(IncubationBase.operator_id, Organization.id, Organization.name)
#: Organizations in residence now (not graduated).
RESIDENTS = (select(func.count(Residency.id)).where(Residency.base_id == IncubationBase.id,
                                                   Residency.graduated_on.is_(None))
             .correlate(IncubationBase).scalar_subquery())


def _residents(items) -> dict:
    rows = db.session.execute(select(Residency.base_id, func.count(Residency.id))
                              .where(Residency.base_id.in_([b.id for b in items]), Residency.graduated_on.is_(None))
                              .group_by(Residency.base_id))
    return {base_id: {"residents": n} for base_id, n in rows}


BASES = L.ListSpec(
    name="incubation-bases", title=_l("Incubation bases"), model=IncubationBase, row_attr="base",
    permission="base.list",
    base=lambda user: visible(user, "base.view", IncubationBase),
    columns=[
        L.col("name", _l("Name"), IncubationBase.name,
              link=("organizations.base_detail", "base_id", lambda b: b.id)),
        L.col("operator", _l("Run by"), OPERATOR_NAME, path="operator.name",
              link=("organizations.detail", "org_id", lambda b: b.operator_id)),
        L.col("address", _l("Address"), IncubationBase.address),
        L.col("opened_on", _l("Opened on"), IncubationBase.opened_on, kind=L.DATE),
        L.col("area_sqm", _l("Area (m²)"), IncubationBase.area_sqm, kind=L.NUMBER),
        L.Column("residents", _l("Residents"), lambda b, e: e.get("residents", 0), RESIDENTS, kind=L.NUMBER),
    ],
    search=lambda q: L.search_clause(q, IncubationBase.name, IncubationBase.address, OPERATOR_NAME),
    search_label=_l("Name, address or operator"),
    default_sort="name", empty=_l("No incubation base yet."), extras=_residents,
)
