"""Projects on the dashboard (issue 12 item 1): the items themselves, each with its next
step — finance's projects waiting for the budget check, oldest first; an officer's
projects returned by finance (the projects whose funds are approved and whose call is still
to be drafted are listed by the tenders module, which knows the calls: procure/tenders/worklists.py).
Every read is narrowed by the permission rule's own filter."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..permissions import visible
from ..queues import WorkItem, WorkList, register_list
from . import services  # noqa: F401  (the rules project.edit, project.budget_check)
from .models import Project, ProjectState

S = ProjectState
LIMIT = 20


def project_items(user, action: str, where, order, step, due_label, due_column) -> list[WorkItem]:
    rows = db.session.execute(visible(user, action, select(
        Project.id, Project.title, Project.state, due_column), Project)
        .where(where).order_by(*order).limit(LIMIT)).all()
    return [WorkItem(title, url_for("projects.detail", project_id=pid), state.label, step, due_label, due)
            for pid, title, state, due in rows]


def _budget_checks(user) -> list[WorkItem]:
    return project_items(user, "project.budget_check", Project.state == S.SUBMITTED,
                  (Project.submitted_at, Project.id), _l("Check the budget and allocate funds"), _l("Submitted"),
                  Project.submitted_at)


def _returned(user) -> list[WorkItem]:
    return project_items(user, "project.edit", (Project.state == S.DRAFT) & Project.state_reason.is_not(None),
                  (Project.id.desc(),), _l("Revise and submit again"), _l("Submitted"), Project.submitted_at)


register_list(WorkList("project.budget_checks", "project.budget_check", _l("Projects waiting for your budget check"),
                       _budget_checks, empty=_l("No project waits for a budget check."), order=5))
register_list(WorkList("project.returned", "project.edit", _l("Projects returned by finance"), _returned, order=6))
