"""The contracts list (procure.listing), over the contracts the user may see
(``contract.view``'s filter: an organization its own, an officer their department's)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from .. import listing as L
from ..auth.models import Department
from ..budgets.lists import department_filter
from ..organizations.models import Organization
from ..permissions import visible
from .models import Contract, ContractState

ORGANIZATION_NAME = L.related(Contract.organization_id, Organization.id, Organization.name)
DEPARTMENT_NAME = L.related(Contract.department_id, Department.id, Department.name)

CONTRACTS = L.ListSpec(
    name="contracts", title=_l("Contracts"), model=Contract, row_attr="contract", permission="contract.view",
    base=lambda user: visible(user, "contract.view", Contract),
    columns=[
        L.col("number", _l("Contract number"), Contract.number,
              link=("contracts.detail", "contract_id", lambda c: c.id)),
        L.col("title", _l("Title"), Contract.title, link=("contracts.detail", "contract_id", lambda c: c.id)),
        L.col("organization", _l("Organization"), ORGANIZATION_NAME, path="organization.name",
              link=("organizations.detail", "org_id", lambda c: c.organization_id)),
        L.col("department", _l("Department"), DEPARTMENT_NAME, path="department.name"),
        L.col("state", _l("State"), Contract.state, kind=L.STATE),
        L.col("period_end", _l("Service period ends"), Contract.period_end, kind=L.DATE),
        L.col("sign_due_on", _l("Sign by"), Contract.sign_due_on, kind=L.DATE),
        L.col("amount", _l("Contract amount"), Contract.amount, kind=L.MONEY),
    ],
    filters=[
        L.state_filter(Contract.state, ContractState),
        department_filter(Contract.department_id),
    ],
    search=lambda q: L.search_clause(q, Contract.number, Contract.title, ORGANIZATION_NAME),
    search_label=_l("Number, title or organization"),
    default_sort="-id", empty=_l("No contracts."),
    options=lambda: [selectinload(Contract.organization), selectinload(Contract.department)],
)
