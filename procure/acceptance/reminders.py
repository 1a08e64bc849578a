"""The acceptance's reminder rule (procure.reminders.engine): a rectification period
ending (policy ``reminder.rectification_days``, default 7 and 1 days before
``rectify_by``) → the organization's staff and the department's officers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..auth.models import User, UserStatus
from ..contracts.models import Contract
from ..extensions import db
from ..reminders.engine import Due, ReminderRule, org_users, register
from ..roles import Role
from .models import Acceptance, AcceptanceState


def _officers(dept_ids: set[int]) -> dict[int, list]:
    out: dict[int, list] = {}
    if dept_ids:
        for user in db.session.scalars(select(User).where(
                User.department_id.in_(sorted(dept_ids)), User.role == Role.OFFICER,
                User.status == UserStatus.ACTIVE).order_by(User.id)):
            out.setdefault(user.department_id, []).append(user)
    return out


def _rectification(today: date, offsets: tuple) -> Iterable[tuple[int, Due]]:
    days = {today + timedelta(days=o): o for o in offsets if o >= 0}
    if not days:
        return
    rows = db.session.scalars(select(Acceptance).where(
        Acceptance.state == AcceptanceState.FAILED, Acceptance.rectify_by.in_(list(days)))
        .options(joinedload(Acceptance.contract).joinedload(Contract.project)).order_by(Acceptance.id)).all()
    orgs = org_users([a.organization_id for a in rows])
    officers = _officers({a.contract.department_id for a in rows})
    for a in rows:
        yield days[a.rectify_by], Due(
            "acceptances", a.id, a.rectify_by,
            {"org": orgs.get(a.organization_id, []), "officer": officers.get(a.contract.department_id, [])},
            "acceptance.detail", {"acceptance_id": a.id},
            {"number": a.contract.number, "title": a.contract.title, "due": a.rectify_by})


register(ReminderRule("acceptance.rectification", _l("Rectification period ending"),
                      "reminder_acceptance_rectification", "reminder.rectification_days", _rectification,
                      recipients=("org", "officer")))
