"""Benchmark: the organization list over 17,343 organizations (the seed city's count),
with filters: p95 time per request and queries per request (constant whatever the size).

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_registry \\
        python bench/bench_list.py [organizations] [requests per case]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from bench_common import bench_app  # noqa: E402
from registry_data import csv_bytes  # noqa: E402

CASES = ["/organizations/", "/organizations/?kind=service_org", "/organizations/?rating=4",
         "/organizations/?standing=abnormal", "/organizations/?authority=重庆市江北区民政局",
         "/organizations/?q=第1234", "/organizations/?kind=social_group&rating=none&page=40",
         "/organizations/?missing_report=2024"]


def main(n: int = 17343, reps: int = 60) -> None:
    app = bench_app()
    from procure import audit
    from procure.auth import services as accounts
    from procure.auth.models import User
    from procure.extensions import db
    from procure.organizations import importer
    from procure.organizations.models import CreditStanding, Organization
    from procure.roles import Role

    with app.test_request_context():
        importer.import_bytes(None, csv_bytes(n))
        # a share rated and listed, as in a real registry
        db.session.execute(sa.update(Organization).where(Organization.id % 7 == 0).values(rating_level=4))
        db.session.execute(sa.update(Organization).where(Organization.id % 50 == 0)
                           .values(credit_standing=CreditStanding.ABNORMAL))
        admin = User(username="admin", email="a@x.org", name="admin", role=Role.ADMIN)
        admin.set_password("bench-password-1")
        db.session.add(admin)
        db.session.flush()
        audit.record(None, "user.create", admin, after=admin.snapshot())
        dep = accounts.create_department(admin, "民政局", "MZJ")
        accounts.create_user(admin, accounts.UserData(username="officer", email="o@x.org", name="officer",
                                                      role=Role.OFFICER, locale="en", department_id=dep.id,
                                                      organization_id=None), "bench-password-1")
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "bench-password-1"})
    with app.app_context():
        engine = db.engine
    count = {"n": 0}
    sa.event.listen(engine, "before_cursor_execute", lambda *a: count.__setitem__("n", count["n"] + 1))
    print(f"{n} organizations, {reps} requests per case")
    print(f"{'case':<55} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for path in CASES:
        times, queries = [], set()
        for _ in range(reps):
            count["n"] = 0
            t0 = time.perf_counter()
            resp = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            queries.add(count["n"])
            assert resp.status_code == 200, path
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"{path:<55} {statistics.median(times):8.1f} {p95:8.1f} {','.join(map(str, sorted(queries))):>8}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
