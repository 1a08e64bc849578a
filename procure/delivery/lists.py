"""The milestone reports list (procure.listing): the officer's review list and everyone's
reports list, over the reports the user may see (``milestone_report.view``'s filter)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from .. import listing as L
from ..budgets.lists import department_filter
from ..contracts.models import Contract, Milestone
from ..organizations.models import Organization
from ..permissions import visible
from .models import MilestoneReport, ReportState

CONTRACT_NUMBER = L.related(MilestoneReport.contract_id, Contract.id, Contract.number)
MILESTONE_TITLE = L.related(MilestoneReport.milestone_id, Milestone.id, Milestone.title)
DUE_ON = L.related(MilestoneReport.milestone_id, Milestone.id, Milestone.due_on)
CONTRACT_DEPARTMENT = L.related(MilestoneReport.contract_id, Contract.id, Contract.department_id)
ORGANIZATION_NAME = L.related(MilestoneReport.organization_id, Organization.id, Organization.name)

REPORTS = L.ListSpec(
    name="milestone-reports", title=_l("Milestone reports"), model=MilestoneReport, row_attr="report",
    permission="milestone_report.view",
    base=lambda user: visible(user, "milestone_report.view", MilestoneReport),
    columns=[
        L.col("milestone", _l("Milestone"), MILESTONE_TITLE, path="milestone.title",
              link=("delivery.report", "report_id", lambda r: r.id)),
        L.col("contract", _l("Contract number"), CONTRACT_NUMBER, path="contract.number",
              link=("contracts.detail", "contract_id", lambda r: r.contract_id)),
        L.col("organization", _l("Organization"), ORGANIZATION_NAME, path="organization.name",
              link=("organizations.detail", "org_id", lambda r: r.organization_id)),
        L.col("state", _l("State"), MilestoneReport.state, kind=L.STATE),
        L.col("due_on", _l("Due on"), DUE_ON, path="milestone.due_on", kind=L.DATE),
        L.col("submitted_at", _l("Submitted"), MilestoneReport.submitted_at, kind=L.DATETIME),
        L.col("reviewed_at", _l("Reviewed"), MilestoneReport.reviewed_at, kind=L.DATETIME),
    ],
    filters=[
        L.state_filter(MilestoneReport.state, ReportState),
        department_filter(CONTRACT_DEPARTMENT),
    ],
    search=lambda q: L.search_clause(q, MILESTONE_TITLE, CONTRACT_NUMBER, ORGANIZATION_NAME),
    search_label=_l("Milestone, contract number or organization"),
    default_sort="-submitted_at", empty=_l("No milestone reports."),
    options=lambda: [selectinload(MilestoneReport.milestone), selectinload(MilestoneReport.contract),
                     selectinload(MilestoneReport.organization)],
)
