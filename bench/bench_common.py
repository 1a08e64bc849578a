"""A fresh database for a benchmark: BENCH_DATABASE_URL (dropped and re-created)."""

from __future__ import annotations

import os

import sqlalchemy as sa


def bench_app():
    url = sa.engine.make_url(os.environ.get("BENCH_DATABASE_URL",
                                            "postgresql+psycopg://postgres@127.0.0.1:5432/bench_registry"))
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    from flask_migrate import upgrade

    from procure import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url.render_as_string(hide_password=False),
                     MAIL_SUPPRESS_SEND=True,
                     # The outbox hands ids to an in-memory broker: no worker, no SMTP in the timing.
                     CELERY={"broker_url": "memory://", "task_ignore_result": True})
    with app.app_context():
        upgrade()
    return app


def median_p95_ms(samples: list[float]) -> str:
    """``median … ms   p95 … ms`` of timings in seconds (the benchmarks' one summary line)."""
    import statistics

    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"
