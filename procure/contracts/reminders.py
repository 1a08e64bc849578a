"""The contracts' reminder rules, registered with the generic engine
(``procure.reminders.engine``): a contract not yet signed as its signing period (30 days
after the award notice) runs out, and a contract in force ending soon — each to the
department's officers and the organization's staff."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth.models import User, UserStatus
from ..extensions import db
from ..reminders.engine import Due, ReminderRule, org_users, register
from ..roles import Role
from .models import Contract, ContractState


def _department_officers(dept_ids: set[int]) -> dict[int, list]:
    out: dict[int, list] = {}
    if not dept_ids:
        return out
    for user in db.session.scalars(select(User).where(User.department_id.in_(sorted(dept_ids)),
                                                      User.role == Role.OFFICER, User.status == UserStatus.ACTIVE)
                                   .order_by(User.id)):
        out.setdefault(user.department_id, []).append(user)
    return out


def _contracts_due(today: date, offsets: tuple, column, states) -> Iterable[tuple[int, Due]]:
    days = {today + timedelta(days=o): o for o in offsets if o >= 0}
    if not days:
        return
    rows = db.session.scalars(select(Contract).where(column.in_(list(days)), Contract.state.in_(states))
                              .order_by(Contract.id)).all()
    orgs = org_users([c.organization_id for c in rows])
    officers = _department_officers({c.department_id for c in rows})
    for c in rows:
        day = getattr(c, column.key)
        yield days[day], Due("contracts", c.id, day,
                             {"org": orgs.get(c.organization_id, []), "officer": officers.get(c.department_id, [])},
                             "contracts.detail", {"contract_id": c.id},
                             {"number": c.number, "title": c.title, "due": day})


def _unsigned(today: date, offsets: tuple):
    return _contracts_due(today, offsets, Contract.sign_due_on, [ContractState.DRAFT, ContractState.PENDING_SIGNATURE])


def _ending(today: date, offsets: tuple):
    return _contracts_due(today, offsets, Contract.period_end, [ContractState.ACTIVE])


register(ReminderRule("contract.unsigned", _l("Contract not yet signed"), "reminder_contract_unsigned",
                      "reminder.contract_unsigned_days", _unsigned, recipients=("officer", "org")))
register(ReminderRule("contract.ending", _l("Contract ending soon"), "reminder_contract_ending",
                      "reminder.contract_ending_days", _ending, recipients=("officer", "org")))
