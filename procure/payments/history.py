"""How the history of payments reads (see procure/history.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..documents.history import KIND_LABELS as DOCUMENT_KINDS
from ..history import (
    Date,
    DateTime,
    Enum,
    Field,
    Money,
    Number,
    Pairs,
    Ref,
    Renderer,
    Text,
    describe_object,
    join,
)
from ..jobs.history import KIND_LABELS as JOB_KINDS
from .models import Payment, PaymentState, Step


class Steps(Renderer):
    """The approval chain (a list of Step codes) as its steps' labels."""

    def __call__(self, value, names):
        if not isinstance(value, list):
            return Text()(value, names)
        return join(Enum(Step)(v, names) for v in value)


describe_object("payments", _l("Payment"), model=Payment,
                name=lambda p: f"{p.contract.number} · {p.installment.position + 1}",
                options=(joinedload(Payment.contract), joinedload(Payment.installment)),
                endpoint=("payments.detail", "payment_id"), permission="payment.view",
                fields={
                    "contract_id": Field(_l("Contract"), Ref("contracts")),
                    "installment_id": Field(_l("Installment"), hidden=True),
                    "amount": Field(_l("Amount"), Money()),
                    "state": Field(_l("State"), Enum(PaymentState)),
                    "steps": Field(_l("Approval chain"), Steps()),
                    "step": Field(_l("Step"), Enum(Step)),
                    "steps_done": Field(_l("Steps approved"), Number()),
                    "position": Field(_l("Step"), hidden=True),
                    "waiting_for": Field(_l("Waiting for"), hidden=True),
                    "raised": Field(_l("Raised automatically")),
                    "approved_at": Field(_l("Approved"), DateTime(), hidden=True),
                    "voucher_number": Field(_l("Voucher number")),
                    "paid_on": Field(_l("Paid on"), Date()),
                    "paid_at": Field(_l("Recorded paid"), DateTime(), hidden=True),
                    "paid_by_id": Field(_l("Recorded by"), Ref("users")),
                    "ledger": Field(_l("Paid from"), Pairs(Ref("allocations"), Money())),
                    "reject_reason": Field(_l("Reason"), hidden=True),
                    "rejected_by_id": Field(_l("Rejected by"), Ref("users"), hidden=True),
                    "rejected_at": Field(_l("Rejected"), DateTime(), hidden=True),
                })

JOB_KINDS.update({"payment_notice": _l("Payment notice")})
DOCUMENT_KINDS.update({"payment_notice": _l("Payment notice")})
