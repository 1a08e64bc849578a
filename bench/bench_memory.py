"""Web worker memory over an hour of the key pages (issue 8: "a web worker ≤ 150 MB after an
hour of the key pages; memory flat between runs").

Reuses the database that ``bench/run_pages.py`` seeded (seed scale; this script never seeds
nor drops it) and its helpers: gunicorn with 2 sync workers, sign-in through the form, and
its page list, plus the delivery pages of the bench contract (milestones, a report, the
payments, the acceptance and payment lists, the spending lines). One client, one request at
a time (a new connection per request: sync workers do not keep connections alive),
throttled: after each request it sleeps ``--duty`` ⁻¹ − 1 times the request's wall time, so
that the server spends at most about a quarter of one core on it (the machine is shared).

Every ``--sample`` seconds it reads each worker's RSS from /proc, and at the end prints a
table (minute, requests so far, RSS of each worker) and the slope of RSS against requests
over the second half of the run (MB per 1,000 requests, least squares) — flat is ~0.

    python -m bench.bench_memory [--minutes 60] [--url URL] [--port 8741]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import signal
import time
from pathlib import Path

from bench import run_pages as rp

#: (role, path, status) of the delivery pages of the bench contract (contract 1 of project 1).
DELIVERY_PAGES = [
    ("officer", "/contracts/1/milestones", 200),
    ("org", "/contracts/1/milestones", 200),
    ("officer", "/reports/1", 200),
    ("org", "/reports/1", 200),
    ("finance", "/contracts/1/payments", 200),
    ("finance", "/payments/1", 200),
    ("finance", "/payments/", 200),
    ("officer", "/acceptances/", 200),
    ("finance", "/spending/", 200),
    ("org", "/contracts/1", 200),
]


def pages() -> list[tuple[str, str, int]]:
    out = [(role, path.format(org=rp.ORG_ID, project=rp.PROJECT_ID), status) for _l, role, path, status in rp.PAGES]
    return out + DELIVERY_PAGES


def worker_pids(proc) -> list[int]:
    return [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def get(port: int, path: str, cookie: str) -> int:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", path, headers={"Cookie": cookie, "Accept-Language": "zh-CN", "Connection": "close"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x."""
    n = len(points)
    if n < 2:
        return float("nan")
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", rp.DEFAULT_URL))
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--sample", type=float, default=60, help="seconds between RSS samples")
    parser.add_argument("--duty", type=float, default=0.25, help="share of wall time spent in requests")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_MEMORY_PORT", 8741)))
    args = parser.parse_args()

    rp.APP_PORT = args.port  # sign_in() reads it; a port of its own beside a run_pages run
    app = rp.start("wsgi:app", args.port, args.url)
    t_start = time.time()
    try:
        workers = worker_pids(app)
        listed = pages()
        cookies = {role: rp.sign_in(role) for role in {role for role, _p, _s in listed}}
        for role, path, status in listed:  # every page once: a wrong status stops here
            got = get(args.port, path, cookies[role])
            if got != status:
                raise SystemExit(f"{path} ({role}): {got}, expected {status}")
        print(f"# {len(listed)} pages, workers {workers}, duty {args.duty:g}, "
              f"load average at start {os.getloadavg()[0]:.1f}", flush=True)
        samples = [(0.0, 0, [rss_mb(p) for p in workers])]
        print(f"minute 0: requests 0, RSS {', '.join(f'{x:.1f}' for x in samples[0][2])} MB", flush=True)
        requests, busy = 0, 0.0
        t0 = time.monotonic()
        end = t0 + args.minutes * 60
        next_sample = t0 + args.sample
        for role, path, status in itertools.cycle(listed):
            now = time.monotonic()
            if now >= next_sample:
                if worker_pids(app) != workers:
                    raise SystemExit(f"workers changed: {workers} → {worker_pids(app)}")
                samples.append(((now - t0) / 60, requests, [rss_mb(p) for p in workers]))
                m, n, rss = samples[-1]
                print(f"minute {m:.1f}: requests {n}, RSS {', '.join(f'{x:.1f}' for x in rss)} MB, "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
                next_sample += args.sample
            if now >= end:
                break
            r0 = time.monotonic()
            got = get(args.port, path, cookies[role])
            spent = time.monotonic() - r0
            busy += spent
            requests += 1
            if got != status:
                raise SystemExit(f"{path} ({role}): {got}, expected {status}")
            time.sleep(spent * (1 / args.duty - 1))
        load = os.getloadavg()
    finally:
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=30)

    wall = time.monotonic() - t0
    print(f"\n{requests:,} requests in {wall / 60:.1f} min ({requests / wall:.1f}/s, requests "
          f"{busy / wall:.0%} of wall time), one client, {len(listed)} pages in turn; "
          f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}\n")
    heads = " | ".join(f"worker {i + 1} RSS MB" for i in range(len(workers)))
    print(f"| minute | requests | {heads} |")
    print("|---:|---:|" + "---:|" * len(workers))
    for m, n, rss in samples:
        print(f"| {m:.0f} | {n:,} | " + " | ".join(f"{x:.1f}" for x in rss) + " |")
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    slopes = [slope([(n / 1000, rss[i]) for _m, n, rss in half]) for i in range(len(workers))]
    print(f"\nsecond half (minute {half[0][0]:.0f}–{half[-1][0]:.0f}, {half[-1][1] - half[0][1]:,} requests): "
          "slope " + ", ".join(f"{s:+.3f}" for s in slopes) + " MB per 1,000 requests; "
          f"peak RSS {max(max(rss) for _m, _n, rss in samples):.1f} MB; "
          f"run took {(time.time() - t_start) / 60:.1f} min")


if __name__ == "__main__":
    main()
