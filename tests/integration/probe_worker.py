"""The Celery app of the prefork integration tests: ``workers.celery_app`` (the real
entry point, schema check included) plus one test-only task that reports which
PostgreSQL backend serves the pool process it runs in."""

from __future__ import annotations

import json
import os
import time

import redis
from celery import shared_task
from sqlalchemy import text

from procure.extensions import db
from workers.celery_app import celery, flask_app  # noqa: F401  (the app celery -A loads)

PROBE_TASK = "tests.integration.backend_pid"


@shared_task(name=PROBE_TASK)
def backend_pid(key: str, processes: int = 2) -> None:
    """Push {pid, backend} to the Redis list ``key``. Each task waits (up to 15 s) until
    ``processes`` pool processes have run one, so every pool process takes part."""
    r = redis.Redis.from_url(flask_app.config["REDIS_URL"])
    r.sadd(key + ":pids", os.getpid())
    deadline = time.monotonic() + 15
    while r.scard(key + ":pids") < processes and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        first = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        db.session.commit()
        again = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        db.session.commit()
    except Exception as exc:  # a connection broken by another process's use of it
        db.session.rollback()
        r.rpush(key, json.dumps({"pid": os.getpid(), "error": f"{type(exc).__name__}: {exc}"[:300]}))
        return
    r.rpush(key, json.dumps({"pid": os.getpid(), "backend": first, "again": again}))
