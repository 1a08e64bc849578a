"""Key pages against the floor, over HTTP, in one run.

Seeds PostgreSQL at seed scale (bench/budgets_data.py: 17,343 organizations, 3,000
projects, ledger; plus registration authorities, ratings, one account per role and some
audit events and notices), starts the app under gunicorn (2 sync workers) and the floor
(bench/floor_app.py: a bare Flask route, one indexed query, a small template, also 2 sync
workers), and drives both from a small Python load client on loopback (``wrk`` is not
installed here): ``--concurrency`` threads, a new connection per request (no keep-alive),
each page for ``--seconds``. The floor is driven for half that just before each page; the
ratio is a page's p95 over the p95 of the floor slice just before it (the machine is shared
and its load drifts). Each figure is the median over ``--rounds`` rounds. The query count
per page is counted in-process (the same app, the test client, a statement listener).
Last, the RSS of each web worker.

    python -m bench.run_pages [--url URL] [--no-seed] [--rounds 3] [--seconds 5] [--concurrency 2]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_pages"
APP_PORT, FLOOR_PORT = (int(os.environ.get("BENCH_APP_PORT", 8731)), int(os.environ.get("BENCH_FLOOR_PORT", 8732)))
PASSWORD = "bench-password-1"
YEAR = 2024
AUTHORITIES = ["重庆市民政局", *(f"重庆市{d}民政局" for d in
                               ("渝中区", "江北区", "沙坪坝区", "九龙坡区", "南岸区", "北碚区", "渝北区", "巴南区"))]

#: (label, role, path, expected status)
PAGES = [
    ("signed-in trivial page (GET /login → 302)", "officer", "/login", 302),
    ("/dashboard (admin)", "admin", "/dashboard", 200),
    ("/dashboard (officer)", "officer", "/dashboard", 200),
    ("/dashboard (finance)", "finance", "/dashboard", 200),
    ("/dashboard (organization)", "org", "/dashboard", 200),
    ("/dashboard (evaluator)", "evaluator", "/dashboard", 200),
    ("project list (finance, all 3,000)", "finance", "/projects/", 200),
    ("project list (officer, own department)", "officer", "/projects/", 200),
    ("organization list", "officer", "/organizations/", 200),
    ("organization list, filtered (kind)", "officer", "/organizations/?kind=service_org", 200),
    ("organization page", "officer", "/organizations/{org}", 200),
    ("finance dashboard", "finance", f"/budgets/?year={YEAR}", 200),
    ("budget execution page", "finance", f"/reports/budget-execution?year={YEAR}", 200),
    ("project page with delivery (officer)", "officer", "/projects/{project}", 200),
    ("project page with delivery (finance)", "finance", "/projects/{project}", 200),
    # the pages of the lifecycle issues (tendering, contracts, delivery)
    ("tender page (officer)", "officer", "/tenders/{project}", 200),
    ("tender list (officer)", "officer", "/tenders/", 200),
    ("contract page (organization)", "org", "/contracts/{project}", 200),
    ("contract list (finance)", "finance", "/contracts/", 200),
    ("payment list (finance)", "finance", "/payments/", 200),
    ("payment page (finance)", "finance", "/payments/{project}", 200),
    ("milestone report page (officer)", "officer", "/reports/{project}", 200),
    ("milestone report list (officer)", "officer", "/milestone-reports/", 200),
    ("acceptance page (officer)", "officer", "/acceptances/{project}", 200),
    ("spending page (finance)", "finance", "/spending/", 200),
]
USERS = {"admin": "bench-admin", "officer": "bench-officer", "finance": "bench-finance", "org": "bench-org",
         "evaluator": "bench-expert"}


# --- data ---------------------------------------------------------------------------

def seed(url: str) -> None:
    from bench.budgets_data import generate

    t0 = time.perf_counter()
    counts = generate(url)
    from procure import audit, create_app
    from procure.auth.models import Department, User
    from procure.extensions import db
    from procure.notifications.models import Notice
    from procure.organizations.models import CreditStanding, Organization
    from procure.roles import Role

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        s = db.session
        n = len(AUTHORITIES)
        s.execute(sa.text("UPDATE organizations SET registration_authority = (ARRAY[:a])[1 + id % :n]"
                          .replace(":a", ",".join(f"'{a}'" for a in AUTHORITIES))), {"n": n})
        s.execute(sa.update(Organization).where(Organization.id % 7 == 0).values(rating_level=4))
        s.execute(sa.update(Organization).where(Organization.id % 50 == 0)
                  .values(credit_standing=CreditStanding.ABNORMAL))
        dep = s.scalar(sa.select(Department.id).order_by(Department.id))
        users = {}
        for role, username in USERS.items():
            user = s.scalar(sa.select(User).where(User.username == username))
            if user is None:
                user = User(username=username, email=f"{username}@bench.local", name=username, role=Role(role),
                            department_id=dep if role in ("officer", "finance") else None,
                            organization_id=1 if role == "org" else None, locale="zh_CN")
                user.set_password(PASSWORD)
                s.add(user)
            users[role] = user
        s.flush()
        # delivery (issue 11): 15,000 milestones, 150,000 spending lines, payments, acceptances
        from bench.delivery_data import add_delivery
        from procure.calendar import local_today

        counts.update(add_delivery(s, today=local_today()))
        # something in "your recent actions" and in the notices for every role
        for user in users.values():
            for i in range(20):
                audit.record(user, "bench.touch", "organizations", 1 + i, after={"n": i})
            s.execute(sa.insert(Notice), [{"user_id": user.id, "rule": "bench", "text": f"通知{i}",
                                           "is_critical": False} for i in range(30)])
        s.commit()
    with sa.create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    print(f"<!-- seeded {counts} in {time.perf_counter() - t0:.0f} s -->", flush=True)


def cpu_per_request(get, n: int) -> float:
    """CPU ms of this process per call of ``get`` (median of 5 batches): unlike the wall
    clock, it barely moves when other work shares the machine."""
    batches = []
    for _ in range(5):
        c0 = time.process_time()
        for _ in range(n):
            get()
        batches.append((time.process_time() - c0) / n * 1000)
    return statistics.median(batches)


def query_counts(url: str, cpu_n: int = 0, pages=None) -> tuple[dict[str, int], dict[str, float]]:
    """Statements per page, counted in-process with the test client; with ``cpu_n``, also
    the CPU ms per request of each page and (key "floor") of the floor app, in-process."""
    from procure import create_app
    from procure.extensions import db

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        engine = db.engine
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    clients = {}
    out: dict[str, int] = {}
    cpu: dict[str, float] = {}
    for label, role, path, status in pages or PAGES:
        path = path.replace("{project}", str(PROJECT_ID))
        if role not in clients:
            clients[role] = app.test_client()
            r = clients[role].post("/login", data={"username": USERS[role], "password": PASSWORD})
            assert r.status_code == 302, f"sign-in of {role} failed (seed first)"
        client = clients[role]
        for _ in range(5):  # warm
            client.get(path.format(org=ORG_ID))
        statements.clear()
        r = client.get(path.format(org=ORG_ID))
        assert r.status_code == status, (path, r.status_code)
        out[label] = len(statements)
        if cpu_n:
            cpu[label] = cpu_per_request(lambda c=client, p=path.format(org=ORG_ID): c.get(p), cpu_n)
    if cpu_n:
        os.environ.setdefault("DATABASE_URL", url)
        from bench.floor_app import app as floor_app

        floor_client = floor_app.test_client()
        for _ in range(20):
            floor_client.get("/floor")
        cpu["floor"] = cpu_per_request(lambda: floor_client.get("/floor"), cpu_n * 4)
    return out, cpu


ORG_ID = 4321
#: The first project (its contract is the bench organization's, in the officer's department):
#: five milestones with their reports, spending lines, payments and an acceptance. Contract,
#: first payment, first report and first acceptance all have this id too (the seed writes
#: them first): the lifecycle pages use it.
PROJECT_ID = 1


# --- servers ------------------------------------------------------------------------

def start(module: str, port: int, url: str, page_cache: bool = True) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url, PROCURE_CONFIG="development", SECRET_KEY="bench-secret",
               REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
               LOGIN_RATE_LIMIT="10000 per minute", PYTHONPATH=str(ROOT), PAGE_CACHE="1" if page_cache else "0")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}",
                             "--log-level", "warning", module], cwd=ROOT, env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/")
            c.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{module} did not start")


def workers_rss(proc: subprocess.Popen) -> list[float]:
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    out = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        out.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
    return out


# --- client -------------------------------------------------------------------------

def sign_in(role: str) -> str:
    """The session cookie of ``role``, signed in through the form (with its CSRF token)."""
    c = http.client.HTTPConnection("127.0.0.1", APP_PORT)
    c.request("GET", "/login")
    r = c.getresponse()
    page = r.read().decode()
    cookie = r.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    body = urlencode({"username": USERS[role], "password": PASSWORD, "csrf_token": token.group(1)})
    c = http.client.HTTPConnection("127.0.0.1", APP_PORT)
    c.request("POST", "/login", body=body, headers={"Cookie": cookie,
                                                     "Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    r.read()
    assert r.status == 302, f"sign-in of {role}: {r.status}"
    cookie = r.getheader("Set-Cookie").split(";")[0]
    # the first page gives the session its CSRF secret (a browser keeps the new cookie)
    c = http.client.HTTPConnection("127.0.0.1", APP_PORT)
    c.request("GET", "/dashboard", headers={"Cookie": cookie})
    r = c.getresponse()
    r.read()
    return (r.getheader("Set-Cookie") or cookie).split(";")[0]


def drive(port: int, path: str, cookie: str | None, status: int, seconds: float, concurrency: int) -> list[float]:
    """Latencies in ms of requests to ``path`` for ``seconds`` from ``concurrency`` threads,
    each request on a new connection."""
    times: list[float] = []
    errors: list[str] = []
    stop = time.perf_counter() + seconds
    headers = {"Connection": "close", "Accept-Language": "zh-CN"}
    if cookie:
        headers["Cookie"] = cookie

    def loop():
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            c = http.client.HTTPConnection("127.0.0.1", port)
            c.request("GET", path, headers=headers)
            r = c.getresponse()
            r.read()
            c.close()
            times.append((time.perf_counter() - t0) * 1000)
            if r.status != status:
                errors.append(f"{path}: {r.status}")
                return

    threads = [threading.Thread(target=loop) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(errors[0])
    return times


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--no-seed", action="store_true", help="reuse the database of an earlier run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--only", default="", help="only pages whose label contains one of these (comma-separated)")
    parser.add_argument("--no-cache", action="store_true",
                        help="serve with the page cache off (procure/pagecache.py): every page built")
    parser.add_argument("--cpu-requests", type=int, default=40,
                        help="requests per batch for the in-process CPU column (0: none)")
    args = parser.parse_args()
    if not args.no_seed:
        seed(args.url)
    pages = [p for p in PAGES if any(o in p[0] for o in args.only.split(","))]
    counts, cpu = query_counts(args.url, cpu_n=args.cpu_requests, pages=pages)
    app = start("wsgi:app", APP_PORT, args.url, page_cache=not args.no_cache)
    floor = start("bench.floor_app:app", FLOOR_PORT, args.url)
    try:
        cookies = {role: sign_in(role) for role in {p[1] for p in pages}}
        for _label, role, path, status in pages:  # warm every worker's caches and templates
            drive(APP_PORT, path.format(org=ORG_ID, project=PROJECT_ID), cookies[role], status, 0.5, args.concurrency)
        drive(FLOOR_PORT, "/floor", None, 200, 0.5, args.concurrency)
        rounds = []
        for _ in range(args.rounds):
            # The floor is driven right before each page, so that a page and its floor share
            # the machine's load of that moment (other work on the machine comes and goes).
            result, floor_all = {}, []
            for label, role, path, status in pages:
                f = drive(FLOOR_PORT, "/floor", None, 200, args.seconds / 2, args.concurrency)
                t = drive(APP_PORT, path.format(org=ORG_ID, project=PROJECT_ID), cookies[role], status, args.seconds,
                          args.concurrency)
                floor_all += f
                result[label] = (pct(t, 0.5), pct(t, 0.95), len(t), pct(f, 0.95))
            result["floor"] = (pct(floor_all, 0.5), pct(floor_all, 0.95), len(floor_all), pct(floor_all, 0.95))
            rounds.append(result)
        app_rss, floor_rss = workers_rss(app), workers_rss(floor)
    finally:
        for p in (app, floor):
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)

    def med(label, i):
        return statistics.median(r[label][i] for r in rounds)

    def ratio(label):
        return statistics.median(r[label][1] / r[label][3] for r in rounds)

    print(f"\n{args.rounds} rounds × {args.seconds:g} s per page (the floor {args.seconds / 2:g} s just before "
          f"each page), {args.concurrency} connections, medians over rounds; page cache "
          f"{'off: every page built' if args.no_cache else 'on (no writes during the run)'}; "
          "the in-process CPU column is always the page built\n")
    def cpu_cols(label):
        if not cpu:
            return ""
        return f" {cpu[label]:.1f} | {cpu[label] / cpu['floor']:.1f}× |"

    cpu_head = " CPU ms in-process | CPU ÷ floor |" if cpu else ""
    print(f"| page | p50 ms | p95 ms | floor p95 ms | p95 ÷ floor | queries |{cpu_head}")
    print("|---|---:|---:|---:|---:|---:|" + ("---:|---:|" if cpu else ""))
    print(f"| floor: bare Flask route, one indexed query, small template (all slices) | {med('floor', 0):.1f} | "
          f"{med('floor', 1):.1f} | {med('floor', 1):.1f} | 1.0× | 1 |{cpu_cols('floor')}")
    for label, *_rest in pages:
        print(f"| {label} | {med(label, 0):.1f} | {med(label, 1):.1f} | {med(label, 3):.1f} | "
              f"{ratio(label):.1f}× | {counts[label]} |{cpu_cols(label)}")
    print(f"\nweb worker RSS after the run: {', '.join(f'{x:.0f}' for x in app_rss)} MB "
          f"(floor's workers: {', '.join(f'{x:.0f}' for x in floor_rss)} MB)")


if __name__ == "__main__":
    main()
