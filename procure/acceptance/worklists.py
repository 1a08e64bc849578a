"""Acceptance on the dashboard: each role's acceptance work, as queue counts and work
lists, every read narrowed by a permission rule's own filter.

- evaluators: the acceptances to declare on and score (``acceptance.serve``);
- officers: their department's acceptances to organize and to decide (``acceptance.manage``);
- organizations: the final report due on each contract in force, and the
  rectification due after a failure (``acceptance.report``)."""

from __future__ import annotations

from datetime import datetime, time

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select

from ..contracts.models import Contract, ContractState
from ..extensions import db
from ..permissions import visible
from ..queues import Queue, WorkItem, WorkList, register_list
from ..queues import register as register_queue
from . import services  # noqa: F401  (the module's rules)
from .models import Acceptance, AcceptanceEvaluator, AcceptanceState, EvaluatorState

A, E = AcceptanceState, EvaluatorState
LIMIT = 20
_WAITING = and_(AcceptanceEvaluator.state.in_((E.ASSIGNED, E.DECLARED)),
                AcceptanceEvaluator.acceptance.has(Acceptance.state == A.EVALUATING))


def _day(d) -> datetime | None:
    """The end of Shanghai day ``d`` as a stored (UTC) time: 23:59 Beijing time."""
    return datetime.combine(d, time(15, 59)) if d is not None else None


def _assignments(user) -> list[WorkItem]:
    rows = db.session.execute(visible(user, "acceptance.serve", select(
        AcceptanceEvaluator.state, AcceptanceEvaluator.assigned_at, Acceptance.id, Contract.number, Contract.title)
        .join(Acceptance, Acceptance.id == AcceptanceEvaluator.acceptance_id)
        .join(Contract, Contract.id == Acceptance.contract_id), AcceptanceEvaluator)
        .where(AcceptanceEvaluator.state.in_((E.ASSIGNED, E.DECLARED)), Acceptance.state == A.EVALUATING,
               AcceptanceEvaluator.round == Acceptance.round)
        .order_by(AcceptanceEvaluator.assigned_at, Acceptance.id).limit(LIMIT)).all()
    return [WorkItem(f"{number} · {title}", url_for("acceptance.detail", acceptance_id=aid), state.label,
                     _l("Declare conflicts of interest") if state == E.ASSIGNED else _l("Score the acceptance"),
                     _l("Assigned at"), assigned) for state, assigned, aid, number, title in rows]


def _department(user) -> list[WorkItem]:
    rows = db.session.execute(visible(user, "acceptance.manage", select(
        Acceptance.id, Acceptance.state, Acceptance.submitted_at, Acceptance.evaluated_by, Contract.number,
        Contract.title).join(Contract, Contract.id == Acceptance.contract_id), Acceptance)
        .where(Acceptance.state.in_((A.SUBMITTED, A.EVALUATING)))
        .order_by(Acceptance.submitted_at, Acceptance.id).limit(LIMIT)).all()
    items = []
    for aid, state, submitted, by, number, title in rows:
        if state == A.SUBMITTED:
            step = _l("Organize the evaluation")
        elif by == "third_party":
            step = _l("Enter the third party's scores and decide")
        else:
            step = _l("Evaluators score; then decide")
        items.append(WorkItem(f"{number} · {title}", url_for("acceptance.detail", acceptance_id=aid), state.label,
                              step, _l("Submitted at"), submitted))
    return items


def _organization(user) -> list[WorkItem]:
    items = []
    due = db.session.execute(visible(user, "contract.view", select(
        Contract.id, Contract.number, Contract.title, Contract.period_end), Contract)
        .where(Contract.state == ContractState.ACTIVE, Contract.organization_id == user.organization_id,
               Contract.id.not_in(select(Acceptance.contract_id).where(Acceptance.state != A.DRAFT)))
        .order_by(Contract.period_end, Contract.id).limit(LIMIT)).all()
    for cid, number, title, end in due:
        items.append(WorkItem(f"{number} · {title}", url_for("acceptance.report", contract_id=cid),
                              _l("Final report due"), _l("Write and submit the final report"),
                              _l("Contract period ends"), _day(end)))
    failed = db.session.execute(visible(user, "acceptance.report", select(
        Acceptance.id, Acceptance.contract_id, Acceptance.rectify_by, Contract.number, Contract.title)
        .join(Contract, Contract.id == Acceptance.contract_id), Acceptance)
        .where(Acceptance.state == A.FAILED).order_by(Acceptance.rectify_by).limit(LIMIT)).all()
    for _aid, cid, rectify_by, number, title in failed:
        items.append(WorkItem(f"{number} · {title}", url_for("acceptance.report", contract_id=cid),
                              A.FAILED.label, _l("Rectify and resubmit the final report"),
                              _l("Rectification due"), _day(rectify_by)))
    return items


register_queue(Queue(
    "acceptance.assignments", "acceptance.serve", _l("Acceptances waiting for your evaluation"), AcceptanceEvaluator,
    lambda u: url_for("dashboard.index", _anchor="worklist-acceptance.assignments"), where=lambda u: _WAITING))
register_queue(Queue(
    "acceptance.department", "acceptance.manage", _l("Acceptances to organize or decide"), Acceptance,
    lambda u: url_for("dashboard.index", _anchor="worklist-acceptance.department"),
    where=lambda u: Acceptance.state.in_((A.SUBMITTED, A.EVALUATING))))
register_list(WorkList("acceptance.assignments", "acceptance.serve", _l("Acceptances to evaluate"), _assignments,
                       order=22))
register_list(WorkList("acceptance.department", "acceptance.manage", _l("Acceptances to organize and decide"),
                       _department, order=34))
register_list(WorkList("acceptance.organization", "acceptance.report", _l("Final reports and rectification due"),
                       _organization, order=12))
