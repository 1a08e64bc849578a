"""The demo's start message says honestly whether it loaded data or kept the existing
database, and how to start over; DEMO_RESET=1 removes only the embedded database."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "run_demo.py"


@pytest.fixture()
def supervisor(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("run_demo_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("PROCURE_INSTANCE", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DEMO_RESET", raising=False)
    sup = module.Supervisor()
    sup.env.update(MAIL_SERVER="127.0.0.1", MAIL_PORT="1025")
    return sup


def test_banner_says_the_database_was_kept(supervisor, capsys):
    supervisor.loaded = False
    supervisor.banner(5000, "Logins …")
    out = capsys.readouterr().out
    assert "KEPT" in out and "DEMO_RESET=1 ./scripts/demo.sh" in out and "procure.sqlite" in out
    supervisor.loaded = True
    supervisor.banner(5000, "Logins …")
    out = capsys.readouterr().out
    assert "demo data loaded into a new database" in out and "KEPT" not in out


def test_reset_removes_only_the_embedded_database(supervisor, tmp_path):
    for name in ("procure.sqlite", "procure.sqlite-wal", "master.key", "demo-logins.txt"):
        (tmp_path / name).write_text("x")
    supervisor.reset_database()  # not asked: nothing removed
    assert (tmp_path / "procure.sqlite").exists()
    supervisor.env["DEMO_RESET"] = "1"
    supervisor.reset_database()
    assert not (tmp_path / "procure.sqlite").exists() and not (tmp_path / "procure.sqlite-wal").exists()
    assert not (tmp_path / "demo-logins.txt").exists() and (tmp_path / "master.key").exists()


def test_reset_never_drops_a_configured_database(supervisor, tmp_path):
    (tmp_path / "procure.sqlite").write_text("x")
    supervisor.env.update(DEMO_RESET="1", DATABASE_URL="postgresql+psycopg://u:secret@db/procure")
    supervisor.reset_database()
    assert (tmp_path / "procure.sqlite").exists()
    assert "secret" not in supervisor.database()
