"""The calls-for-bids list (procure.listing), over the calls the user may see
(``tender.view``'s filter)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from .. import listing as L
from ..auth.models import Department
from ..budgets.lists import department_filter
from ..permissions import visible
from ..projects.models import ProcurementMethod
from .models import Tender, TenderState

DEPARTMENT_NAME = L.related(Tender.department_id, Department.id, Department.name)

TENDERS = L.ListSpec(
    name="tenders", title=_l("Calls for bids"), model=Tender, row_attr="tender", permission="tender.view",
    base=lambda user: visible(user, "tender.view", Tender),
    columns=[
        L.col("title", _l("Title"), Tender.title, link=("tenders.detail", "tender_id", lambda t: t.id)),
        L.col("department", _l("Department"), DEPARTMENT_NAME, path="department.name"),
        L.col("method", _l("Procurement method"), Tender.method),
        L.col("state", _l("State"), Tender.state, kind=L.STATE),
        L.col("deadline_at", _l("Bid deadline"), Tender.deadline_at, kind=L.DATETIME),
        L.col("opening_at", _l("Opening time"), Tender.opening_at, kind=L.DATETIME),
    ],
    filters=[
        L.state_filter(Tender.state, TenderState),
        L.state_filter(Tender.method, ProcurementMethod, "method", _l("Procurement method")),
        department_filter(Tender.department_id),
    ],
    search=lambda q: L.search_clause(q, Tender.title),
    search_label=_l("Title"),
    default_sort="-id", empty=_l("No calls yet."),
    options=lambda: [selectinload(Tender.department)],
)
