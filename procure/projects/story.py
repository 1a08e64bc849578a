"""The project's story at a glance (issue 11 item 6): the lifecycle from plan to archive
as a timeline with the day each stage was reached, and its money.

The day of each stage is read from the audit trail (the project machine's transitions,
one indexed query bounded by the number of transitions), never stored twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from ..audit import AuditEvent
from ..budgets.models import ZERO
from ..extensions import db
from .models import PROJECT_MACHINE, Project, ProjectState
from .services import project_totals

S = ProjectState
#: The stages of a project from plan to archive, in order (DOMAIN.md §4).
PATH = (S.DRAFT, S.SUBMITTED, S.APPROVED, S.TENDERING, S.AWARDED, S.CONTRACTED, S.IN_PROGRESS, S.ACCEPTANCE,
        S.CLOSED)
_VALUES = frozenset(s.value for s in ProjectState)


@dataclass(frozen=True)
class Step:
    state: ProjectState
    #: When the stage was (last) reached, UTC; None if not reached or not recorded.
    at: datetime | None
    #: "done", "current" or "todo".
    status: str

    @property
    def label(self):
        return self.state.label


@dataclass(frozen=True)
class Money:
    allocated: Decimal
    committed: Decimal
    paid: Decimal

    @property
    def uncommitted(self) -> Decimal:
        """Reserved for the project, not yet bound by a contract."""
        return self.allocated - self.committed

    @property
    def unpaid(self) -> Decimal:
        """Committed to contracts, not yet paid."""
        return self.committed - self.paid


def _reached(project: Project) -> dict[ProjectState, datetime]:
    actions = {f"{PROJECT_MACHINE.prefix}.{a}" for a in set(PROJECT_MACHINE.actions.values())}
    rows = db.session.execute(select(AuditEvent.created_at, AuditEvent.after).where(
        AuditEvent.object_type == Project.__tablename__, AuditEvent.object_id == str(project.id),
        AuditEvent.action.in_(sorted(actions))).order_by(AuditEvent.seq))
    out: dict[ProjectState, datetime] = {}
    for at, after in rows:
        value = (after or {}).get(PROJECT_MACHINE.field)
        if value in _VALUES:
            out[ProjectState(value)] = at
    return out


def timeline(project: Project) -> list[Step]:
    """The stages from plan to archive. A cancelled project shows the stages it went
    through, then "cancelled" as its current stage."""
    reached = _reached(project)
    reached.setdefault(S.DRAFT, project.created_at)
    if project.state == S.CANCELLED:
        done = [s for s in PATH if s in reached]
        return [Step(s, reached.get(s), "done") for s in done] + [Step(S.CANCELLED, reached.get(S.CANCELLED),
                                                                        "current")]
    here = PATH.index(project.state)
    return [Step(s, reached.get(s) if i <= here else None, "done" if i < here else "current" if i == here else "todo")
            for i, s in enumerate(PATH)]


def money(project: Project, totals: tuple | None = None) -> Money:
    """The project's money; ``totals``: its (allocated, committed, paid) if already read."""
    if totals is None:
        totals = project_totals([project.id]).get(project.id)
    allocated, committed, paid = totals or (ZERO, ZERO, ZERO)
    return Money(allocated or ZERO, committed or ZERO, paid or ZERO)
