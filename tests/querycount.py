"""How many SQL statements a page costs: ``page_statements(app, client, url)`` GETs
``url`` (asserting 200) and counts the statements the engine ran meanwhile. The query
budget tests of several modules share it."""

from __future__ import annotations

from sqlalchemy import event

from procure.extensions import db as _db


def page_statements(app, client, url) -> int:
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        resp = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert resp.status_code == 200, url
    return len(statements)
