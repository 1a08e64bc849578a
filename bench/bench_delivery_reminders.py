"""Benchmark: the delivery reminder scan over 100,000 milestones (issue 11).

Data (``bench/delivery_data.py`` on ``bench/budgets_data.py``, in bulk): 20,000 projects
with a contract in force each (2022–2026, 2,000 organizations with one active user each,
1 in 3 English; one officer per department), 5 milestones a contract (100,000), their
installments, reports on most milestones already due on the scan day (85 % approved, 8 %
submitted, 4 % sent back, 3 % missing: overdue), payments of the approved ones (some
approved and unpaid), acceptances. On the worst day ``--worst`` milestones (default
10,000) of 2026 contracts are due on 2026-06-30 with no report. ``VACUUM ANALYZE``.

Days, each scanned as the beat task runs it (``engine.scan`` restricted to the delivery
rules — milestone due / overdue / escalated, report waiting for review, payment unpaid /
due after acceptance, rectification ending — with a commit after every batch; the scan
catches up on the two days before):

* an ordinary day (2026-02-10: no milestone near);
* a typical day (2026-06-16: the ordinary spread of due dates);
* the worst day (2026-06-23: 7 days before the 10,000 milestones are due);
* the same day again (everything already written).

"find" is ``engine.due`` alone for those rules (nothing written); "scan" is the whole
task (find, render, write, commit); per email = scan ÷ emails written. Then, on the
worst day, each rule's find alone, and the EXPLAIN of the milestone due-finding query.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_delivery_reminders \\
        python -m bench.bench_delivery_reminders [--projects 20000] [--worst 10000] [--no-seed]
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date

import sqlalchemy as sa

RULES = ("milestone.due", "milestone.overdue", "milestone.overdue_escalated", "milestone_report.review",
         "payment.unpaid", "payment.due", "acceptance.rectification")
WORST = date(2026, 6, 30)
DAYS = [("ordinary day, 2026-02-10 (no milestone near)", date(2026, 2, 10)),
        ("typical day, 2026-06-16", date(2026, 6, 16)),
        ("worst day, 2026-06-23 (7 days before the pile-up)", date(2026, 6, 23)),
        ("the same day again (all already written)", date(2026, 6, 23))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_delivery_reminders"))
    parser.add_argument("--projects", type=int, default=20000)
    parser.add_argument("--worst", type=int, default=10000)
    parser.add_argument("--no-seed", action="store_true")
    args = parser.parse_args()
    if not args.no_seed:
        from bench.delivery_data import generate

        t0 = time.perf_counter()
        counts = generate(args.url, projects=args.projects, lines=0, today=date(2026, 6, 23), worst_day=WORST,
                          worst_n=args.worst)
        print(f"<!-- {counts} loaded in {time.perf_counter() - t0:.0f} s -->")

    from procure import create_app
    from procure.extensions import db
    from procure.reminders import engine

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=args.url, MAIL_SUPPRESS_SEND=True,
                     CELERY={"broker_url": "memory://", "task_ignore_result": True})
    with app.app_context():
        n = db.session.scalar(sa.text("SELECT count(*) FROM contract_milestones"))
        print(f"{n:,} milestones; load average {os.getloadavg()[0]:.1f} / {os.getloadavg()[1]:.1f} (1 / 5 min)")
        db.session.execute(sa.text("DELETE FROM notices WHERE rule = ANY(:r)"), {"r": list(RULES)})
        db.session.execute(sa.text("DELETE FROM notifications"))
        db.session.commit()
        engine_ = db.engine
    statements = []
    sa.event.listen(engine_, "before_cursor_execute", lambda *a: statements.append(1))
    print("\n| day | find | scan | statements | written | per email |\n|---|---:|---:|---:|---|---:|")
    for label, day in DAYS:
        with app.app_context():
            t0 = time.perf_counter()
            found = engine.due(day, only=RULES)
            find = time.perf_counter() - t0
            db.session.rollback()
            del found
            statements.clear()
            t0 = time.perf_counter()
            counts = engine.scan(day, only=RULES, checkpoint=db.session.commit)
            db.session.commit()
            scan = time.perf_counter() - t0
            emails = db.session.scalar(sa.text("SELECT count(*) FROM notifications"))
        total = sum(counts.values())
        per = f"{scan / total * 1000:.2f} ms" if total else "—"
        print(f"| {label} | {find:.2f} s | {scan:.2f} s | {len(statements)} | "
              f"{', '.join(f'{k} {v:,}' for k, v in counts.items() if v) or '—'} (emails in the outbox: {emails:,}) "
              f"| {per} |")
    day = DAYS[2][1]
    print(f"\nEach rule's find alone on {day} (median of 5):\n\n| rule | find ms | found |\n|---|---:|---:|")
    with app.app_context():
        for rule in RULES:
            times, found = [], 0
            for _ in range(5):
                t0 = time.perf_counter()
                out = engine.due(day, only=(rule,))
                times.append(time.perf_counter() - t0)
                found = sum(len(plan) for _r, plan in out)
                db.session.rollback()
            times.sort()
            print(f"| {rule} | {times[2] * 1000:.1f} | {found:,} |")
        t0 = time.perf_counter()
        engine.due(day)
        print(f"\nevery registered rule (registry, tenders, contracts too): find {time.perf_counter() - t0:.2f} s")
        from procure.delivery.reminders import _milestones_due_on

        stmt = []
        sa.event.listen(db.engine, "before_cursor_execute", lambda c, cur, s, p, *a: stmt.append((s, p)))
        _milestones_due_on(WORST, day, overdue=False)
        _milestones_due_on(date(2026, 6, 22), day, overdue=True)
        for sql, params in stmt[-2:]:
            plan = db.session.connection().exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params).all()
            print("\n    " + "\n    ".join(r[0] for r in plan))
    print(f"\nload average after: {os.getloadavg()[0]:.1f} / {os.getloadavg()[1]:.1f}")


if __name__ == "__main__":
    main()
