"""Benchmark: the reminder scan over 100,000 organizations, 20,000 of which owe the annual
report (the worst day writes 20,000 emails and 20,000 notices).

Data, in bulk: N organizations (default 100,000, the seed city's mix of kinds), one active
user each (1 in 3 English, the others Chinese), the 2025 annual report filed by all but
``owing`` of them (default 20,000), and 1 in 50 organizations with a rating expiring on
2026-09-30. ``ANALYZE`` after loading.

Days, each scanned as the beat task runs it (``engine.scan`` with a commit after every
batch; reminders catch up on the two days before, ``REMINDER_CATCH_UP_DAYS`` = 2):

* an ordinary day (2026-03-03): nothing due;
* 60 days before the ratings expire (2026-08-01): a reminder per rated organization;
* 7 days before the 2025 annual report is due (2026-05-24), the worst day: every
  organization that has not filed (and the catch-up days write nothing more: the 30-day
  reminder was due on 2026-05-01);
* the same day again: everything already written (one look-up of the keys per batch).

For each day: "find" is ``engine.due`` alone (the rules' set-based queries over all the
organizations and users, nothing written); "scan" is the whole task (find, render, write,
commit); the statements the scan sent to the database; what it wrote. The outbox hands
ids to an in-memory broker (no worker, no SMTP in the timing: ``bench_mail.py`` measures
delivery).

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_reminders \\
        python bench/bench_reminders.py [organizations] [owing]
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from bench_common import bench_app  # noqa: E402
from registry_data import rows  # noqa: E402

DAYS = [("ordinary day (nothing due)", date(2026, 3, 3)),
        ("60 days before 1 in 50 ratings expire", date(2026, 8, 1)),
        ("7 days before the annual report (worst day)", date(2026, 5, 24)),
        ("the same day again (all already written)", date(2026, 5, 24))]


def load(app, n: int, owing: int) -> None:
    from procure.auth.models import User
    from procure.extensions import db
    from procure.organizations.models import AnnualReport, Organization, Rating, RatingState, ReportStatus
    from procure.roles import Role

    t0 = time.perf_counter()
    for start in range(0, n, 10000):
        db.session.execute(sa.insert(Organization), rows(min(n, start + 10000))[start:])
    ids = db.session.scalars(sa.select(Organization.id).order_by(Organization.id)).all()
    proto = User(username="x", email="x", name="x", role=Role.ORG)
    proto.set_password("bench-password-1")
    for start in range(0, n, 10000):
        db.session.execute(sa.insert(User), [
            {"username": f"u{i}", "email": f"u{i}@bench.local", "name": f"用户{i}", "role": Role.ORG,
             "organization_id": oid, "password_hash": proto.password_hash, "locale": "en" if i % 3 == 0 else "zh_CN",
             "session_token": f"t{i}"} for i, oid in enumerate(ids[start:start + 10000], start=start)])
    # Every `n // owing`-th organization owes the report; the others filed it.
    step = max(n // owing, 1)
    filed = [oid for i, oid in enumerate(ids) if i % step or i // step >= owing]
    for start in range(0, len(filed), 10000):
        db.session.execute(sa.insert(AnnualReport), [
            {"organization_id": oid, "year": 2025, "due_date": date(2026, 5, 31), "status": ReportStatus.FILED,
             "filed_on": date(2026, 3, 1)} for oid in filed[start:start + 10000]])
    db.session.execute(sa.insert(Rating), [
        {"organization_id": oid, "level": 3, "rated_on": date(2021, 9, 30), "expires_on": date(2026, 9, 30),
         "state": RatingState.ACTIVE} for oid in ids[::50]])
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    print(f"{n:,} organizations and org users, {n - len(filed):,} owing the 2025 annual report, "
          f"{len(ids[::50]):,} ratings expiring on 2026-09-30 (loaded in {time.perf_counter() - t0:.0f} s)")


def main(n: int = 100000, owing: int = 20000) -> None:
    app = bench_app()
    from procure.extensions import db
    from procure.reminders import engine

    with app.app_context():
        load(app, n, owing)
    statements = []
    sa.event.listen(_engine(app), "before_cursor_execute",
                    lambda *a: statements.append(1))
    print(f"{'day':<46} {'find':>7} {'scan':>8} {'statements':>10}  written (recipients per rule)")
    for label, day in DAYS:
        with app.app_context():
            t0 = time.perf_counter()
            found = engine.due(day)
            find = time.perf_counter() - t0
            db.session.rollback()
            del found
            statements.clear()
            t0 = time.perf_counter()
            counts = engine.scan(day, checkpoint=db.session.commit)  # as the task runs it
            db.session.commit()
            scan = time.perf_counter() - t0
        print(f"{label:<46} {find:6.2f}s {scan:7.2f}s {len(statements):>10}  {counts}")


def _engine(app):
    from procure.extensions import db

    with app.app_context():
        return db.engine


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
