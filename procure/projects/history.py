"""How the history of projects and the service catalogue reads (see procure/history.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..history import (
    Date,
    DateTime,
    Enum,
    Field,
    Money,
    Number,
    Pairs,
    Records,
    Ref,
    Text,
    describe_actions,
    describe_object,
)
from .models import ProcurementMethod, Project, ProjectState, ServiceCategory

TARGET_FIELDS = {
    "indicator": Field(_l("Indicator")), "unit": Field(_l("Unit")),
    "target_value": Field(_l("Target value"), Number()),
    "is_beneficiaries": Field(_l("Counts beneficiaries")),
}

describe_object("projects", _l("Project"), model=Project, name=lambda p: p.title,
                endpoint=("projects.detail", "project_id"), permission="project.view",
                fields={
                    "contract": Field(_l("Contract")),
                    "title": Field(_l("Title")), "department_id": Field(_l("Department"), Ref("departments")),
                    "category_id": Field(_l("Service category"), Ref("service_categories")),
                    "fiscal_year": Field(_l("Fiscal year"), Text()),
                    "service_area": Field(_l("Service area")), "target_group": Field(_l("Target group")),
                    "budget_ceiling": Field(_l("Budget ceiling"), Money()),
                    "method": Field(_l("Procurement method"), Enum(ProcurementMethod)),
                    "period_start": Field(_l("Service period starts"), Date()),
                    "period_end": Field(_l("Service period ends"), Date()),
                    "beneficiaries_served": Field(_l("Beneficiaries served"), Number()),
                    "targets": Field(_l("Performance targets"), Records(TARGET_FIELDS)),
                    "state": Field(_l("State"), Enum(ProjectState)),
                    "allocations": Field(_l("Funds allocated"), Pairs(Ref("appropriations"), Money())),
                    "released": Field(_l("Funds released"), Money()),
                    "state_reason": Field(_l("Reason"), hidden=True),  # the event's own reason says it
                    "submitted_at": Field(_l("Submitted at"), DateTime()),
                })
describe_object("service_categories", _l("Service category"), model=ServiceCategory,
                name=lambda c: f"{c.code} {c.name}", endpoint=("projects.catalogue", "cat_id"),
                permission="catalogue.manage",
                fields={"code": Field(_l("Code")), "name": Field(_l("Name")), "is_active": Field(_l("In use"))})

describe_actions({
    "project.create": _l("Project created"), "project.update": _l("Project changed"),
    "project.submit": _l("Submitted for the budget check"), "project.approve": _l("Budget approved"),
    "project.return": _l("Returned for changes"), "project.cancel": _l("Project cancelled"),
    "catalogue.create": _l("Catalogue entry created"), "catalogue.update": _l("Catalogue entry changed"),
})
