"""The demo data: one user per role, two organizations' users, a dashboard for each."""

from __future__ import annotations

import sqlalchemy as sa

from procure.auth.models import User
from procure.demo import DEMO_PASSWORD
from procure.roles import Role

from .conftest import login


def test_demo_command(app, db, demo_loaded):
    result = demo_loaded  # `flask demo` as run once for the session, its rows in this test's database
    assert result.exit_code == 0, result.output
    assert "admin" in result.output and DEMO_PASSWORD in result.output
    users = db.session.scalars(sa.select(User)).all()
    assert {u.role for u in users} == set(Role)
    orgs = {u.organization_id for u in users if u.role == Role.ORG}
    assert len(orgs) >= 2
    again = app.test_cli_runner().invoke(args=["demo"])
    assert "not loaded" in again.output
    verify = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 0


def test_every_demo_login_sees_a_chinese_dashboard(app, db, client, demo_loaded):
    from procure.extensions import limiter

    for user in db.session.scalars(sa.select(User)).all():
        limiter.reset()  # one client address signs in as every demo user: not what throttling is for
        c = app.test_client()
        assert login(c, user.username, DEMO_PASSWORD).status_code == 302
        page = c.get("/dashboard").get_data(as_text=True)
        expected = "Waiting for you" if user.locale == "en" else "待办事项"
        assert expected in page, (user.username, page[:500])
        assert user.name in page
