"""procure.refcache: the lists' filter choices read once per worker, read again at once
when this process writes their table, and at most TTL seconds late otherwise."""

from __future__ import annotations

from sqlalchemy import event

from procure import refcache
from procure.auth.models import Department
from procure.budgets.lists import departments
from procure.extensions import db as _db
from procure.timeutil import utcnow


def test_choices_are_read_once_and_again_after_a_write(app, db):
    with app.app_context():
        _db.session.add(Department(name="甲处", code="JIA"))
        _db.session.commit()
        first = departments()
        seen = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(_db.engine, "before_cursor_execute", count)
        try:
            assert departments() == first
        finally:
            event.remove(_db.engine, "before_cursor_execute", count)
        assert seen == [], "the second read comes from the cache"

        _db.session.add(Department(name="乙处", code="YI"))  # a write through this process's session
        _db.session.commit()
        assert sorted(name for _id, name in departments()) == ["乙处", "甲处"]

        _db.session.execute(_db.update(Department).where(Department.name == "乙处").values(name="丙处"))
        _db.session.commit()  # an UPDATE statement, not a flush of objects
        assert sorted(name for _id, name in departments()) == ["丙处", "甲处"]


def test_another_workers_write_shows_after_the_ttl(app, db, monkeypatch):
    with app.app_context():
        _db.session.add(Department(name="甲处", code="JIA"))
        _db.session.commit()
        assert [n for _i, n in departments()] == ["甲处"]
        with _db.engine.begin() as conn:  # behind this process's session: as another worker would
            conn.execute(Department.__table__.insert().values(name="乙处", code="YI", created_at=utcnow()))
        assert [n for _i, n in departments()] == ["甲处"], "kept while young"
        clock = refcache.time.monotonic() + refcache.TTL + 1
        monkeypatch.setattr(refcache.time, "monotonic", lambda: clock)
        assert sorted(n for _i, n in departments()) == ["乙处", "甲处"]
