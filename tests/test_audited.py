"""Every governed change leaves exactly the audit events it should."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from procure.audit import AuditEvent
from procure.auth import services as accounts
from procure.auth.models import UserStatus
from procure.roles import Role


def _count(db, action):
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


CHANGES = {
    "user.create": lambda m, u: m.user(Role.EVALUATOR),
    "user.update": lambda m, u: accounts.update_user(m.admin(), u, accounts.UserData(
        username=u.username, email=u.email, name="改过", role=u.role)),
    "user.disable": lambda m, u: accounts.set_user_status(m.admin(), u, UserStatus.DISABLED),
    "user.password_change": lambda m, u: accounts.change_password(u, u, m.PASSWORD, "another12345"),
    "department.create": lambda m, u: m.department(),
    "department.update": lambda m, u: accounts.update_department(m.admin(), m.department(), "改名部门", "RN"),
}


@pytest.mark.parametrize("action", list(CHANGES))
def test_governed_change_is_audited(db, make, action):
    user = make.user(Role.EVALUATOR)
    before = _count(db, action)
    CHANGES[action](make, user)
    assert _count(db, action) == before + 1


def test_password_reset_is_audited(app, db, make):
    user = make.user(Role.EVALUATOR)
    with app.test_request_context():
        token = accounts.request_password_reset(user.email)
        accounts.reset_password(token, "brandnew123")
    assert _count(db, "user.password_reset_requested") == 1
    assert _count(db, "user.password_reset") == 1
