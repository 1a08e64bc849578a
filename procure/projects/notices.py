"""Who is told when a project moves, and what they are told: the people who must act
next. Submitted → every active finance officer (the budget check waits for them);
approved → the department's officers and the project's creator; returned → the
department's officers; cancelled → the department's officers and, once the project had
reached finance (submitted or later), the finance officers. Never the person who did it.

Each writes an email and an in-app notice per person through ``notifications.notify``,
in the transition's transaction; the words are in ``templates/email/project_*.txt``/``.html``.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth.models import User, UserStatus
from ..extensions import db
from ..notifications.services import app_path, notify, register_topic
from ..roles import Role
from .models import Project, ProjectState

register_topic("project.submitted", _l("Projects waiting for the budget check"), roles={Role.FINANCE})
register_topic("project.approved", _l("Project funds approved"), roles={Role.OFFICER})
register_topic("project.returned", _l("Projects returned after the budget check"), roles={Role.OFFICER})
register_topic("project.cancelled", _l("Projects cancelled"), roles={Role.OFFICER, Role.FINANCE})


def finance_officers() -> list[User]:
    """Every active finance officer (any of them may do the budget check)."""
    return list(db.session.scalars(select(User).where(User.role == Role.FINANCE, User.status == UserStatus.ACTIVE)
                                   .order_by(User.id)))


def department_officers(project: Project) -> list[User]:
    """The active officers of the project's department."""
    return list(db.session.scalars(select(User).where(
        User.role == Role.OFFICER, User.department_id == project.department_id,
        User.status == UserStatus.ACTIVE).order_by(User.id)))


def _tell(actor, people: list[User], topic: str, project: Project, **context) -> None:
    notify([p for p in people if p.id != actor.id], f"project_{topic}", project, rule=f"project.{topic}",
           context=dict(context, project=project, actor=actor),
           link=app_path("projects.detail", project_id=project.id))


def submitted(actor, project: Project) -> None:
    """The project waits for the budget check: tell finance."""
    _tell(actor, finance_officers(), "submitted", project)


def approved(actor, project: Project, amount: Decimal, note: str | None = None) -> None:
    """Funds were allocated: tell the department (and the creator, wherever they are now)."""
    people = department_officers(project)
    creator = db.session.get(User, project.created_by_id)
    if creator is not None and creator.is_active:
        people.append(creator)
    _tell(actor, people, "approved", project, amount=amount, note=note)


def returned(actor, project: Project, reason: str) -> None:
    """Finance sent the project back: the department must change it."""
    _tell(actor, department_officers(project), "returned", project, reason=reason)


def cancelled(actor, project: Project, reason: str, released: Decimal | None = None) -> None:
    """Call before the transition (``project.state`` is the state it is cancelled from)."""
    people = department_officers(project)
    if project.state != ProjectState.DRAFT:
        people += finance_officers()
    _tell(actor, people, "cancelled", project, reason=reason, released=released)
