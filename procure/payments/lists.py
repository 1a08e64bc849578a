"""The payments list (procure.listing): finance's desk with its tabs, over the payments
the user may see (``payment.view``'s filter)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from .. import listing as L
from ..auth.models import Department
from ..budgets.lists import department_filter
from ..contracts.models import Contract
from ..organizations.models import Organization
from ..permissions import visible
from .models import Payment, PaymentState, Waiting

CONTRACT_NUMBER = L.related(Payment.contract_id, Contract.id, Contract.number)
ORGANIZATION_NAME = L.related(Payment.organization_id, Organization.id, Organization.name)
DEPARTMENT_NAME = L.related(Payment.department_id, Department.id, Department.name)


#: The tabs of the payments list: key → (label, condition).
TABS = {
    "confirm": (_l("To confirm"), lambda: Payment.waiting_for == Waiting.OFFICER),
    "approve": (_l("To approve"), lambda: Payment.waiting_for == Waiting.FINANCE),
    "pay": (_l("To pay"), lambda: Payment.state == PaymentState.APPROVED),
    "paid": (_l("Paid"), lambda: Payment.state == PaymentState.PAID),
    "rejected": (_l("Rejected"), lambda: Payment.state == PaymentState.REJECTED),
    "all": (_l("All"), None),
}


def _tab(keep: dict) -> list:
    """The condition of the payments tab ``keep["tab"]`` (a key of TABS; none for "all")."""
    condition = TABS[keep.get("tab") or "all"][1]
    return [condition()] if condition is not None else []


def _installment(p, _e) -> str:
    return f"{p.installment.position + 1} · {p.installment.releases_on.label}"


def _next_step(p, _e):
    return p.next_step.label if p.next_step is not None else None


PAYMENTS = L.ListSpec(
    name="payments", title=_l("Payments"), model=Payment, row_attr="payment", permission="payment.view",
    base=lambda user: visible(user, "payment.view", Payment),
    columns=[
        L.col("contract", _l("Contract number"), CONTRACT_NUMBER, path="contract.number",
              link=("payments.detail", "payment_id", lambda p: p.id)),
        L.col("organization", _l("Organization"), ORGANIZATION_NAME, path="contract.organization.name",
              link=("organizations.detail", "org_id", lambda p: p.organization_id)),
        L.Column("installment", _l("Installment"), _installment),
        L.col("state", _l("State"), Payment.state, kind=L.STATE),
        L.Column("next_step", _l("Next step"), _next_step),
        L.col("requested_at", _l("Requested"), Payment.requested_at, kind=L.DATETIME),
        L.col("voucher_number", _l("Voucher number"), Payment.voucher_number),
        L.col("amount", _l("Amount"), Payment.amount, kind=L.MONEY),
    ],
    filters=[
        L.state_filter(Payment.state, PaymentState),
        department_filter(Payment.department_id),
        L.Filter("from", _l("Requested from"), lambda s, v: s.where(L.between_days(Payment.requested_at,
                                                                                      "date_from", v)),
                 kind="date_from"),
        L.Filter("to", _l("Requested until"), lambda s, v: s.where(L.between_days(Payment.requested_at,
                                                                                     "date_to", v)),
                 kind="date_to"),
    ],
    search=lambda q: L.search_clause(q, CONTRACT_NUMBER, ORGANIZATION_NAME, Payment.voucher_number),
    search_label=_l("Contract number, organization or voucher"),
    default_sort="-id", empty=_l("No payments."),
    options=lambda: [selectinload(Payment.contract).selectinload(Contract.organization),
                     selectinload(Payment.installment)],
    fixed=_tab,
)
