"""The organization search ``?q=``: substrings of names and credit codes, wildcards taken
literally, on PostgreSQL and SQLite; on PostgreSQL the list's query is served by the trigram
indexes of migration 0004_trgm."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from procure import create_app, listing
from procure.extensions import db as _db
from procure.organizations import services
from procure.organizations.lists import ORGANIZATIONS
from procure.organizations.models import Organization, OrgKind
from procure.roles import Role

from ..conftest import app_config, login

NAMES = ["重庆市江北区养老服务中心", "渝中区青少年社会工作服务社", "百分之50%公益协会", "下划线_测试协会",
         "Green Earth 环保协会", r"反斜杠\测试会"]
CODE = "52500105MJ00012345"


def _add(session):
    for i, name in enumerate(NAMES):
        session.add(Organization(name=name, kind=OrgKind.SERVICE_ORG,
                                 credit_code=CODE if i == 0 else f"52500105MJ9{i:07d}"[:18]))
    session.flush()


def _found(session, q: str) -> set[str]:
    return set(session.scalars(sa.select(Organization.name).where(services.search_clause(q))))


def _check_search(session):
    assert _found(session, "养老服务") == {NAMES[0]}
    assert _found(session, "养老") == {NAMES[0]}  # two characters: still a substring search
    assert _found(session, "养") == {NAMES[0]}
    assert _found(session, "社会工作") == {NAMES[1]}
    assert _found(session, "0105MJ0001") == {NAMES[0]}  # a fragment of the credit code
    assert _found(session, "0105mj0001") == {NAMES[0]}  # case-insensitive
    assert _found(session, "green earth") == {NAMES[4]}
    # wildcards are literal characters, not patterns
    assert _found(session, "%") == {NAMES[2]}
    assert _found(session, "50%公") == {NAMES[2]}
    assert _found(session, "_") == {NAMES[3]}
    assert _found(session, "线_测") == {NAMES[3]}
    assert _found(session, "区%服务") == set()
    assert _found(session, "江北区_养老") == set()
    assert _found(session, "\\") == {NAMES[5]}
    assert _found(session, "斜杠\\测") == {NAMES[5]}


def test_like_escape():
    assert services.like_escape("a%b_c\\d") == "a\\%b\\_c\\\\d"


def test_search_on_postgresql(db):
    _add(db.session)
    _check_search(db.session)


@pytest.mark.sqlite
def test_search_on_sqlite(tmp_path, services_ready):
    app = create_app("testing", **app_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 's.sqlite'}"))
    with app.app_context():
        upgrade()
        _add(_db.session)
        _check_search(_db.session)
        _db.session.remove()


def test_list_page_searches(client, make):
    officer = make.user(Role.OFFICER)
    make.organization(NAMES[0], credit_code=CODE)
    make.organization(NAMES[2])
    make.commit()
    login(client, officer.username)
    page = client.get("/organizations/?q=养老").get_data(as_text=True)
    assert NAMES[0] in page and NAMES[2] not in page
    page = client.get("/organizations/?q=0105MJ0001").get_data(as_text=True)
    assert NAMES[0] in page
    page = client.get("/organizations/?q=%25").get_data(as_text=True)
    assert NAMES[2] in page and NAMES[0] not in page


def _plan(db, officer, q: str) -> str:
    """The plan of the list's own select (procure.listing with the organization spec, as
    ``officer`` sees it) searching ``q``."""
    stmt = listing.select_for(ORGANIZATIONS, officer, {"q": q})
    compiled = stmt.compile(dialect=db.engine.dialect)
    with db.engine.begin() as conn:
        # Leave the planner only bitmap scans, i.e. only an index that serves the condition
        # itself: without the trigram index (or with a query it cannot serve) the plan is a
        # Seq Scan however small the table.
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        conn.execute(sa.text("SET LOCAL enable_indexscan = off"))
        return "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params))


def test_list_query_uses_the_trigram_indexes(db, make):
    officer = make.user(Role.OFFICER)
    _add(db.session)
    db.session.commit()
    for q in ["养老服务", "0105MJ0001", "50%公益"]:
        plan = _plan(db, officer, q)
        assert "Seq Scan" not in plan, plan
        assert "ix_organizations_name_trgm" in plan and "ix_organizations_credit_code_trgm" in plan, plan


def test_short_chinese_search_uses_the_grams_index(db, make):
    """1–2 characters cannot use trigrams: the names' indexed 1- and 2-character substrings serve them."""
    officer = make.user(Role.OFFICER)
    _add(db.session)
    db.session.commit()
    for q in ["养老", "养", "%"]:
        plan = _plan(db, officer, q)
        assert "Seq Scan" not in plan, plan
        assert "ix_organizations_name_grams" in plan, plan
