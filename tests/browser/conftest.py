"""Browser tests: Playwright (pytest-playwright) driving Debian's chromium against a live
server.

The live server is a separate app with CSRF on, as in production, served by Werkzeug in
a daemon thread. It shares the test database: create data with the ``make`` fixture and
``make.commit()`` before the browser touches it; the ``db`` fixture truncates all tables
afterwards (the live server is shut down first, since it depends on ``db``).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from procure import create_app
from procure.extensions import db as _db
from procure.extensions import limiter

from ..conftest import app_config, free_port

CHROMIUM = "/usr/lib/chromium/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Debian's chromium, launched by path (never ``playwright install``)."""
    return {
        "executable_path": CHROMIUM,
        "headless": True,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"],
    }


@pytest.fixture()
def artifacts() -> Path:
    """Where screenshots go (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@contextmanager
def serving(app, live_app):
    """Serve ``live_app`` in a daemon thread; yield its base URL; afterwards shut it down,
    close its connections (so the truncation is not blocked) and give the default Celery
    app back to the test app (create_app made the live app's the default)."""
    limiter.reset()  # login throttling counts per test
    server = make_server("127.0.0.1", free_port(), live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        with live_app.app_context():
            _db.engine.dispose()
        app.extensions["celery"].set_default()


@pytest.fixture()
def live_server(app, db):
    """Base URL of a live app (CSRF on, pages served from the page cache) served in a
    daemon thread: as in production, so every journey also shows that no page is stale
    after an action."""
    with serving(app, create_app("testing", **app_config(WTF_CSRF_ENABLED=True, PAGE_CACHE=True))) as url:
        yield url
