"""Pages that only show something never write: a GET of the budgets pages issues no
INSERT, UPDATE, DELETE or COMMIT. The budget check reads in the user's language."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from procure.projects import services as ps
from procure.roles import Role

from ..conftest import login

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|COMMIT)\b", re.IGNORECASE)


@contextmanager
def writes(engine):
    """Collect every writing statement and every commit on ``engine``."""
    seen: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        if WRITE.match(statement):
            seen.append(statement.split(None, 3)[:3].__str__())

    def on_commit(conn):
        seen.append("COMMIT")

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)


@pytest.fixture()
def world(make, db):
    officer = make.user(Role.OFFICER)
    fin = make.finance()
    appr = make.appropriation(officer.department, "1000000.00")
    project = make.project(officer, ceiling="5000.00")
    ps.submit_project(officer, project)
    make.commit()
    return {"finance": fin.username, "appr": appr.id, "project": project.id}


@pytest.mark.parametrize("path", [
    "/budgets/", "/budgets/?year=2026", "/budgets/appropriations", "/budgets/appropriations?year=2026",
    "/budgets/appropriations/{appr}", "/budgets/appropriations/new", "/projects/{project}",
])
def test_a_get_of_a_budgets_page_writes_nothing(client, db, world, path):
    assert login(client, world["finance"]).status_code == 302
    with writes(db.engine) as seen:
        resp = client.get(path.format(**world))
    assert resp.status_code == 200
    assert seen == []


def test_the_appropriation_form_lists_the_sources_without_seeding(client, db, world):
    login(client, world["finance"])
    page = client.get("/budgets/appropriations/new").get_data(as_text=True)
    assert "一般公共预算" in page and "配套资金" in page


def test_the_budget_check_in_chinese_says_remaining_in_chinese(client, db, world):
    login(client, world["finance"])  # the finance user reads Chinese (the default)
    page = client.get(f"/projects/{world['project']}").get_data(as_text=True)
    assert "一般公共预算 · 剩余 ¥1,000,000.00" in page
    assert "remaining" not in page


@pytest.mark.sqlite
def test_the_migrations_seed_the_funding_sources(tmp_path, services_ready):
    """A fresh database has its four funding sources from the migrations alone."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from procure import create_app
    from procure.budgets.models import FundingSource
    from procure.extensions import db as _db

    from ..conftest import app_config

    app = create_app("testing", **app_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'seed.sqlite'}"))
    with app.app_context():
        upgrade()
        codes = _db.session.scalars(sa.select(FundingSource.code).order_by(FundingSource.position)).all()
        _db.session.remove()
    assert codes == ["general", "lottery", "central", "matching"]
