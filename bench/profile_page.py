"""Where a page's time goes: cProfile (CPU time) over N requests of one page through the test client
(in-process, the same database as bench/run_pages.py), the top functions by cumulative
and by own time, and the SQL statements of one request.

    python -m bench.profile_page [--url URL] [--role officer] [--n 300] [--sort tottime] PATH
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import time

import sqlalchemy as sa

from bench.run_pages import DEFAULT_URL, PASSWORD, USERS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--role", default="officer")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--sql", action="store_true", help="print the statements of one request")
    args = parser.parse_args()

    from procure import create_app
    from procure.extensions import db

    # development: CSRF on, as served (testing turns it off)
    app = create_app("development", SQLALCHEMY_DATABASE_URI=args.url, SECRET_KEY="bench",
                     RATELIMIT_STORAGE_URI="memory://", CHECK_SCHEMA=False)
    app.config["WTF_CSRF_ENABLED"] = False  # only for the sign-in POST below
    client = app.test_client()
    r = client.post("/login", data={"username": USERS[args.role], "password": PASSWORD})
    assert r.status_code == 302, r.status_code
    app.config["WTF_CSRF_ENABLED"] = True
    for _ in range(20):
        client.get(args.path)
    with app.app_context():
        engine = db.engine
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    client.get(args.path)
    if args.sql:
        for s in statements:
            print("--", " ".join(s.split())[:300])
    print(f"{len(statements)} statements")
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.n):
        client.get(args.path)
    plain = (time.perf_counter() - t0) / args.n * 1000
    cpu = (time.process_time() - c0) / args.n * 1000
    # CPU time, not wall-clock: the machine is shared, and waits on other processes are not ours
    prof = cProfile.Profile(time.process_time)
    prof.enable()
    for _ in range(args.n):
        client.get(args.path)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())
    print(f"{plain:.2f} ms a request without the profiler, {cpu:.2f} ms of it CPU (mean of {args.n})")


if __name__ == "__main__":
    main()
