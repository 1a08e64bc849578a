"""Refuse to serve against a database that is behind the migrations."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
UPGRADE_COMMAND = "flask --app procure db upgrade"


class SchemaOutOfDate(RuntimeError):
    pass


def expected_heads() -> set[str]:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return set(ScriptDirectory.from_config(cfg).get_heads())


def current_heads() -> set[str]:
    with db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def check_schema(app) -> None:
    """Raise SchemaOutOfDate, naming the command to run, unless the database is at head.

    Leaves no connection in the pool: the processes that check (gunicorn's master, the
    Celery worker's main process) fork afterwards, and a pooled connection inherited by
    two children would be shared by both (one's COMMIT interleaved with the other's
    query)."""
    with app.app_context():
        try:
            current, expected = current_heads(), expected_heads()
        finally:
            db.engine.dispose()
    if current != expected:
        where = ", ".join(sorted(current)) or "empty"
        raise SchemaOutOfDate(
            f"The database ({app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}) is not migrated "
            f"(at: {where}; expected: {', '.join(sorted(expected))}). "
            f"Run: {UPGRADE_COMMAND}"
        )


def check_schema_or_exit(app) -> None:
    """For the processes that serve (gunicorn, Celery): print why and exit 3 when the
    database is behind the migrations, instead of a traceback."""
    import sys

    if not app.config.get("CHECK_SCHEMA", True):
        return
    try:
        check_schema(app)
    except SchemaOutOfDate as exc:
        print(f"Procure will not start: {exc}", file=sys.stderr)
        sys.exit(3)
