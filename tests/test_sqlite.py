"""The embedded default (SQLite) stays honest: migrations, services, audit chain, pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from procure import create_app
from procure.audit import verify_chain
from procure.demo import load_demo
from procure.extensions import db
from procure.notifications.models import Notification

from .conftest import IsolatedClient, app_config

pytestmark = pytest.mark.sqlite


@pytest.fixture(scope="module")
def sqlite_demo(tmp_path_factory, services_ready):
    """A SQLite database with the demo, loaded once for this module's tests: (app, what
    ``load_demo`` returned)."""
    path = tmp_path_factory.mktemp("sqlite") / "trial.sqlite"
    app = create_app("testing", **app_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}"))
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade()
        logins = load_demo()
        yield app, logins
        db.session.remove()


def test_demo_and_audit_chain_on_sqlite(sqlite_demo):
    _app, logins = sqlite_demo
    assert {row["role"] for row in logins["users"]} == {"admin", "officer", "finance", "evaluator", "org"}
    assert verify_chain().ok
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.rule == "welcome")) == len(logins["users"])
    assert load_demo() is None  # a second run leaves the data alone


def test_pages_on_sqlite(sqlite_demo):
    sqlite_app, _logins = sqlite_demo
    client = sqlite_app.test_client()
    assert client.post("/login", data={"username": "admin", "password": "procure2026"}).status_code == 302
    for path in ["/dashboard", "/admin/users", "/admin/outbox", "/admin/audit", "/admin/policy"]:
        assert client.get(path).status_code == 200, path
    resp = client.post("/admin/departments/new", data={"name": "重庆市民政局社会组织管理局", "code": "DUP"})
    assert resp.status_code == 200 and "已存在同名部门" in resp.get_data(as_text=True)
