"""How the history of milestone reports reads (see procure/history.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..documents.history import KIND_LABELS as DOCUMENT_KINDS
from ..history import Choice, Enum, Field, Money, Number, Pairs, Ref, Text, describe_actions, describe_object
from ..tenders.bidding import BREAKDOWN_CATEGORIES
from .models import MilestoneReport, ReportState

describe_object("milestone_reports", _l("Milestone report"), model=MilestoneReport,
                name=lambda r: r.milestone.title, endpoint=("delivery.report", "report_id"),
                options=(joinedload(MilestoneReport.milestone), joinedload(MilestoneReport.contract)),
                permission="milestone_report.view",
                fields={
                    "milestone_id": Field(_l("Milestone"), hidden=True),
                    "contract_id": Field(_l("Contract"), Ref("contracts")),
                    "state": Field(_l("State"), Enum(ReportState)),
                    "submissions": Field(_l("Submissions"), Number()),
                    "version": Field(_l("Version"), Number()),
                    "comment": Field(_l("Comment"), Text()),
                    "narrative": Field(_l("Narrative"), Text()),
                    "actuals": Field(_l("Indicator actuals"), hidden=True),
                    "spending": Field(_l("Spending lines"), hidden=True),
                    "evidence": Field(_l("Evidence files"), hidden=True),
                    "document_id": Field(_l("Document"), hidden=True),
                    "filename": Field(_l("File name")),
                    "sha256": Field(_l("SHA-256 of the file")),
                    "submitted_at": Field(_l("Submitted at"), hidden=True),
                    "submissions_count": Field(_l("Submissions"), Number()),
                    "reviewed_at": Field(_l("Reviewed at"), hidden=True),
                    "reviewed_by_id": Field(_l("Reviewed by"), hidden=True),
                    "review_comment": Field(_l("Comment"), hidden=True),  # the event's "comment" says it
                    "budget": Field(_l("Approved budget breakdown"), Text()),
                })

describe_actions({
    "milestone_report.open": _l("Milestone report started"),
    "milestone_report.save": _l("Milestone report saved"),
    "milestone_report.add_evidence": _l("Evidence added to a milestone report"),
    "milestone_report.remove_evidence": _l("Evidence removed from a milestone report"),
    "budget_line.fill": _l("Approved budget breakdown recorded"),
})

# The approved breakdown is recorded on the contract (``budget_line.fill``): category → amount.
describe_object("contracts", _l("Contract"), fields={
    "budget": Field(_l("Approved budget breakdown"), Pairs(Choice(BREAKDOWN_CATEGORIES), Money())),
})
DOCUMENT_KINDS.update({"report_evidence": _l("Evidence of a milestone report")})
