"""Benchmark: the reminder scan over 20,000 organizations, each with one user.

Three days: an ordinary day (nothing due), a day when 1 in 10 ratings expire in 60
days, and the worst day — 7 days before the annual report is due, when every
organization that has not filed gets a reminder (here all 20,000: one email and one
notice each). Then the same day again (everything already written: the dedupe path).

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_registry \\
        python bench/bench_reminders.py [organizations]
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from bench_common import bench_app  # noqa: E402
from registry_data import csv_bytes  # noqa: E402


def main(n: int = 20000) -> None:
    app = bench_app()
    from procure.auth.models import User
    from procure.extensions import db
    from procure.organizations import importer
    from procure.organizations.models import Organization, Rating, RatingState
    from procure.reminders import engine
    from procure.roles import Role

    due_day = date(2026, 5, 31)
    with app.test_request_context():
        importer.import_bytes(None, csv_bytes(n))
        ids = db.session.scalars(sa.select(Organization.id).order_by(Organization.id)).all()
        proto = User(username="x", email="x", name="x", role=Role.ORG)
        proto.set_password("bench-password-1")
        db.session.execute(sa.insert(User), [
            {"username": f"u{i}", "email": f"u{i}@bench.local", "name": f"用户{i}", "role": Role.ORG,
             "organization_id": oid, "password_hash": proto.password_hash, "locale": "zh_CN" if i % 3 else "en",
             "session_token": f"t{i}"} for i, oid in enumerate(ids)])
        expiring = due_day + timedelta(days=60)
        db.session.execute(sa.insert(Rating), [
            {"organization_id": oid, "level": 3, "rated_on": expiring - timedelta(days=1826),
             "expires_on": expiring, "state": RatingState.ACTIVE} for oid in ids[::10]])
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        print(f"{n} organizations, {n} org users, {len(ids[::10])} ratings expiring on {expiring}")
        for label, day in [("ordinary day (nothing due)", date(2026, 3, 3)),
                           ("60 days before 1 in 10 ratings expire", due_day),
                           ("7 days before the annual report (all owe it)", due_day - timedelta(days=7)),
                           ("same day again (all already written)", due_day - timedelta(days=7))]:
            t0 = time.perf_counter()
            counts = engine.scan(day, checkpoint=db.session.commit)  # as the task runs it
            db.session.commit()
            print(f"{label:<50} {time.perf_counter() - t0:7.2f} s  {counts}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
