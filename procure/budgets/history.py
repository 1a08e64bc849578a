"""How the history of appropriations and allocations reads (see procure/history.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..history import Field, Money, Ref, Text, describe_actions, describe_object
from .models import Allocation, Appropriation, FundingSource


def appropriation_name(a: Appropriation) -> str:
    return f"{a.fiscal_year} · {a.source.label} · {a.department.name}"


describe_object("funding_sources", _l("Funding source"), model=FundingSource, name=lambda s: s.label)
describe_object("appropriations", _l("Appropriation"), model=Appropriation, name=appropriation_name,
                endpoint=("budgets.appropriation", "appr_id"), permission="budget.view",
                fields={
                    "source_id": Field(_l("Funding source"), Ref("funding_sources")),
                    "fiscal_year": Field(_l("Fiscal year"), Text()),
                    "department_id": Field(_l("Department"), Ref("departments")),
                    "reference": Field(_l("Document number")), "amount": Field(_l("Amount"), Money()),
                    "delta": Field(_l("Change"), Money()), "adjustment_id": Field(_l("Adjustment"), hidden=True),
                })
describe_object("allocations", _l("Allocation"), model=Allocation,
                name=lambda a: f"{a.project.title} · {appropriation_name(a.appropriation)}",
                options=(joinedload(Allocation.project),),
                fields={
                    "amount": Field(_l("Amount"), Money()), "allocated": Field(_l("Allocated"), Money()),
                    "committed": Field(_l("Committed"), Money()), "paid": Field(_l("Paid"), Money()),
                    "project_id": Field(_l("Project"), Ref("projects")),
                    "appropriation_id": Field(_l("Appropriation"), Ref("appropriations")),
                    "contract_id": Field(_l("Contract"), Text()), "payment_id": Field(_l("Payment"), Text()),
                })

describe_actions({
    "appropriation.create": _l("Appropriation recorded"), "appropriation.adjust": _l("Appropriation adjusted"),
    "ledger.allocate": _l("Funds allocated"), "ledger.release": _l("Funds released"),
    "ledger.commit": _l("Funds committed"), "ledger.decommit": _l("Commitment released"),
    "ledger.pay": _l("Payment recorded"), "ledger.reverse": _l("Payment reversed"),
})
