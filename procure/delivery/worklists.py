"""Delivery on the dashboard: "what is due next" for the organization (its milestones
still to report, overdue first, and reports sent back for revision) and, for officers,
the reports waiting for their review — as queue counts and work lists, every read
narrowed by a permission rule's own filter."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, or_, select

from ..calendar import local_today
from ..contracts.models import Contract, ContractState, Milestone
from ..extensions import db
from ..permissions import visible
from ..queues import Queue, WorkItem, WorkList, register_list
from ..queues import register as register_queue
from . import services as ds
from .models import MilestoneReport, ReportState

R = ReportState
LIMIT = 20


def _to_report():
    """Milestones whose report the organization still owes (none, a draft, or sent back)."""
    return or_(MilestoneReport.id.is_(None), MilestoneReport.state.in_(ds.EDITABLE))


def _due_next(user) -> list[WorkItem]:
    today = local_today()
    overdue = ds.overdue_condition(today)
    rank = case((overdue, 0), (MilestoneReport.state == R.REVISION_REQUESTED, 1), else_=2)
    rows = db.session.execute(visible(user, "milestone.report", select(
        Milestone.id, Milestone.title, Milestone.due_on, Contract.number, MilestoneReport.state,
        overdue.label("overdue"))
        .join(Contract, Contract.id == Milestone.contract_id)
        .outerjoin(MilestoneReport, MilestoneReport.milestone_id == Milestone.id), Milestone)
        .where(Contract.state == ContractState.ACTIVE, _to_report())
        .order_by(rank, Milestone.due_on, Milestone.id).limit(LIMIT)).all()
    items = []
    for mid, title, due_on, number, state, is_overdue in rows:
        if is_overdue:
            step = _l("Overdue: submit the report")
        elif state == R.REVISION_REQUESTED:
            step = _l("Revise and submit again")
        elif state == R.DRAFT:
            step = _l("Complete and submit the draft")
        else:
            step = _l("Write the report")
        items.append(WorkItem(f"{number} · {title}", url_for("delivery.edit", milestone_id=mid),
                              state.label if state is not None else _l("Not started"), step, _l("Due on"),
                              due_on))  # a day: shown as 2026年12月10日, not as midnight
    return items


def _to_review(user) -> list[WorkItem]:
    rows = db.session.execute(visible(user, "milestone_report.review", select(
        MilestoneReport.id, MilestoneReport.submitted_at, MilestoneReport.submissions_count, Milestone.title,
        Contract.number)
        .join(Milestone, Milestone.id == MilestoneReport.milestone_id)
        .join(Contract, Contract.id == MilestoneReport.contract_id), MilestoneReport)
        .where(MilestoneReport.state == R.SUBMITTED)
        .order_by(MilestoneReport.submitted_at, MilestoneReport.id).limit(LIMIT)).all()
    return [WorkItem(f"{number} · {title}", url_for("delivery.report", report_id=rid), R.SUBMITTED.label,
                     _l("Review: approve or request a revision"), _l("Submitted"), at)
            for rid, at, _n, title, number in rows]


register_queue(Queue(
    "delivery.overdue", "milestone.report", _l("Milestone reports overdue"), Milestone,
    lambda u: url_for("dashboard.index", _anchor="worklist-delivery.due_next"),
    where=lambda u: ds.overdue_condition(), tone="danger"))
register_queue(Queue(
    "delivery.revision", "milestone.report", _l("Reports sent back for revision"), Milestone,
    lambda u: url_for("dashboard.index", _anchor="worklist-delivery.due_next"),
    where=lambda u: Milestone.id.in_(select(MilestoneReport.milestone_id).where(
        and_(MilestoneReport.state == R.REVISION_REQUESTED)))))
register_queue(Queue(
    "delivery.to_review", "milestone_report.review", _l("Milestone reports waiting for review"), MilestoneReport,
    lambda u: url_for("dashboard.index", _anchor="worklist-delivery.to_review"),
    where=lambda u: MilestoneReport.state == R.SUBMITTED))
register_list(WorkList("delivery.due_next", "milestone.report", _l("What is due next: milestone reports"), _due_next,
                       empty=_l("No milestone report is due."), order=40))
register_list(WorkList("delivery.to_review", "milestone_report.review", _l("Milestone reports waiting for your review"),
                       _to_review, order=41))
