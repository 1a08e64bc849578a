"""The last line behind ``projects.services.ensure_open``: the session refuses to write
(update, delete, or add to) a row that belongs to a closed project, whichever service or
statement tries — objects at flush (``before_flush``) and ORM ``UPDATE``/``DELETE``
statements such as the compare-and-set transitions (``do_orm_execute``).

Each guarded table names how it reaches its project: directly (projects, their targets,
contracts), through its contract (milestones, installments, contract versions, milestone
reports, spending lines, budget lines, acceptances), or through its milestone report
(evidence, submissions). One query per flush or statement that touches them; none
otherwise."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, exists, inspect, or_, select
from sqlalchemy.orm import Session

from ..acceptance.models import Acceptance
from ..contracts.models import Contract, ContractVersion, Installment, Milestone
from ..delivery.models import (
    BudgetLine,
    MilestoneReport,
    ReportEvidence,
    ReportSubmission,
    SpendingLine,
)
from ..errors import RecordClosed
from ..projects.models import PerformanceTarget, Project, ProjectState

#: model → (level, attribute naming the project, contract or report)
GUARDED: dict[type, tuple[str, str]] = {
    Project: ("project", "id"),
    PerformanceTarget: ("project", "project_id"),
    Contract: ("project", "project_id"),
    Milestone: ("contract", "contract_id"),
    Installment: ("contract", "contract_id"),
    ContractVersion: ("contract", "contract_id"),
    MilestoneReport: ("contract", "contract_id"),
    SpendingLine: ("contract", "contract_id"),
    BudgetLine: ("contract", "contract_id"),
    Acceptance: ("contract", "contract_id"),
    ReportEvidence: ("report", "report_id"),
    ReportSubmission: ("report", "report_id"),
}

#: Columns a closed project still lets fill once, from empty: the document rendered by the
#: worker for a decision taken before the project closed (the acceptance certificate is
#: queued at the decision and may land after a quick close). Replacing one is a change.
LATE_FILL: dict[type, frozenset[str]] = {Acceptance: frozenset({"certificate_document_id"})}

MESSAGE = _l("This project is closed and archived: nothing in it can be changed or deleted.")


def _closed_condition(projects, contracts, reports):
    """SQL: some closed project is among ``projects``, or owns one of ``contracts`` or of
    ``reports`` (each a list of ids or a subquery)."""
    via_contract = select(Contract.project_id).where(Contract.id.in_(contracts))
    via_report = (select(Contract.project_id).join(MilestoneReport, MilestoneReport.contract_id == Contract.id)
                  .where(MilestoneReport.id.in_(reports)))
    return exists().where(Project.state == ProjectState.CLOSED,
                          or_(Project.id.in_(projects), Project.id.in_(via_contract), Project.id.in_(via_report)))


def _refuse_if_closed(session: Session, projects, contracts, reports) -> None:
    with session.no_autoflush:
        if session.execute(select(_closed_condition(projects, contracts, reports))).scalar():
            raise RecordClosed(MESSAGE)


def _late_fill_only(obj) -> bool:
    """Whether the only change to ``obj`` fills an empty :data:`LATE_FILL` column."""
    allowed = LATE_FILL.get(type(obj))
    if not allowed:
        return False
    state = inspect(obj)
    changed = {a.key: a.history for a in state.attrs if a.history.has_changes()}
    return bool(changed) and set(changed) <= allowed and all(
        not [v for v in (h.deleted or ()) if v is not None] for h in changed.values())


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context, instances) -> None:
    ids: dict[str, set] = {"project": set(), "contract": set(), "report": set()}
    for obj in (*session.new, *session.dirty, *session.deleted):
        spec = GUARDED.get(type(obj))
        if spec is None:
            continue
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        if obj in session.dirty and _late_fill_only(obj):
            continue
        level, attr = spec
        state = inspect(obj)
        value = getattr(obj, attr, None)
        # the value the row holds in the database (a move to another parent counts too)
        hist = state.attrs[attr].history
        for v in (value, *(hist.deleted or ())):
            if v is not None:
                ids[level].add(v)
    if any(ids.values()):
        _refuse_if_closed(session, sorted(ids["project"]), sorted(ids["contract"]), sorted(ids["report"]))


@event.listens_for(Session, "do_orm_execute")
def _on_statement(orm_execute_state) -> None:
    if not (orm_execute_state.is_update or orm_execute_state.is_delete):
        return
    mapper = orm_execute_state.bind_mapper
    spec = GUARDED.get(mapper.class_) if mapper is not None else None
    if spec is None:
        return
    level, attr = spec
    stmt = orm_execute_state.statement
    column = getattr(mapper.class_, attr)
    chosen = select(column)
    if stmt.whereclause is not None:
        chosen = chosen.where(stmt.whereclause)
    empty: list[int] = []
    args = {"project": empty, "contract": empty, "report": empty}
    args[level] = chosen
    _refuse_if_closed(orm_execute_state.session, args["project"], args["contract"], args["report"])
