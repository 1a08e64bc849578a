"""Migrations: the schema is built by them, matches the models, and the app refuses an
un-migrated database with the command to run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from procure.extensions import db as _db
from procure.schema import UPGRADE_COMMAND, current_heads, expected_heads

ROOT = Path(__file__).resolve().parent.parent


def test_database_is_at_head(app, db):
    assert current_heads() == expected_heads()


def test_models_match_migrations_on_postgresql(app, db):
    with _db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), _db.metadata)
    assert diff == [], f"models and migrations differ; run flask db migrate: {diff}"


def _run(code: str, instance: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PROCURE_INSTANCE=str(instance), DATABASE_URL="", PROCURE_CONFIG="development")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_wsgi_refuses_an_unmigrated_database(tmp_path):
    result = _run("import wsgi", tmp_path)
    assert result.returncode == 3
    assert "not migrated" in result.stderr and UPGRADE_COMMAND in result.stderr


def test_wsgi_starts_after_upgrade_on_sqlite(tmp_path):
    env = dict(os.environ, PROCURE_INSTANCE=str(tmp_path), DATABASE_URL="")
    flask = Path(sys.executable).parent / "flask"
    up = subprocess.run([str(flask), "--app", "procure", "db", "upgrade"], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=60)
    assert up.returncode == 0, up.stderr
    result = _run("import wsgi; print('started', wsgi.app.name)", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "started procure" in result.stdout


def test_the_schema_check_leaves_no_pooled_connection(app, db):
    """The processes that check the schema fork afterwards (Celery's pool, gunicorn):
    a connection left in the pool would be inherited, and shared, by every child."""
    from procure.schema import check_schema

    check_schema(app)
    assert _db.engine.pool.checkedin() == 0 and _db.engine.pool.checkedout() == 0
