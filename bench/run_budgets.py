"""Benchmark of the finance dashboard and the budget execution report (HTML, xlsx, PDF)
at seed scale, against a bare Flask route doing one indexed query and against
WeasyPrint rendering the same HTML on its own. Prints a Markdown table: p50/p95, SQL
statements per request and the ratios. Requests go through Flask's test client in one
process (no network, no gunicorn), so the figures are the app's own cost.

    python -m bench.budgets_data      # once: the seed-scale database
    python -m bench.run_budgets [DATABASE_URL] [--rounds N] [--pdf-rounds N (0: no PDF rows)]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import sqlalchemy as sa

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_budgets"
YEAR = 2024


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?", default=DEFAULT_URL)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--pdf-rounds", type=int, default=3)
    args = parser.parse_args()

    from weasyprint import HTML

    from bench.budgets_data import BENCH_PASSWORD
    from procure import create_app
    from procure.auth.models import Department
    from procure.extensions import db
    from procure.organizations.models import Organization
    from procure.pdf import STATIC_BASE, PdfFetcher, render_html
    from procure.reports.execution import budget_execution
    from procure.reports.services import execution_chart, execution_pdf

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=args.url)

    @app.route("/bench/bare")
    def bare():
        org = db.session.get(Organization, random.randint(1, 17000))
        return org.name if org else ""

    statements: list[str] = []
    with app.app_context():
        engine = db.engine
        dep_id = db.session.scalar(sa.select(Department.id).order_by(Department.id))
        first_group = budget_execution(YEAR, with_projects=False).groups[0].key
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    client = app.test_client()
    resp = client.post("/login", data={"username": "bench-finance", "password": BENCH_PASSWORD})
    assert resp.status_code == 302, "run python -m bench.budgets_data first"

    results = []

    def run(name: str, fn, rounds: int):
        fn()  # warm
        times, counts = [], []
        for _ in range(rounds):
            statements.clear()
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
            counts.append(len(statements))
        results.append((name, statistics.median(times), pct(times, 0.95), max(counts)))

    def get(url):
        def call():
            r = client.get(url)
            assert r.status_code == 200, (url, r.status_code)
        return call

    run("bare route, one indexed query", get("/bench/bare"), args.rounds * 4)
    run("finance dashboard", get(f"/budgets/?year={YEAR}"), args.rounds)
    run("budget execution page (HTML, all departments)", get(f"/reports/budget-execution?year={YEAR}"), args.rounds)
    run("budget execution page, one group's projects open",
        get(f"/reports/budget-execution?year={YEAR}&open={first_group[0]}-{first_group[1]}"), args.rounds)
    run("budget execution page, project title search",
        get(f"/reports/budget-execution?year={YEAR}&q=%E9%A1%B9%E7%9B%AE1"), args.rounds)
    run("budget execution xlsx (all departments)", get(f"/reports/budget-execution.xlsx?year={YEAR}"), args.rounds)
    run("program summary page (5 years)", get(f"/reports/program-summary?from={YEAR - 2}&to={YEAR + 2}"),
        args.rounds)

    with app.test_request_context():
        for label, dep in () if args.pdf_rounds <= 0 else (("one department", dep_id), ("all departments", None)):
            def pdf(dep=dep):
                execution_pdf(budget_execution(YEAR, department_id=dep))
            run(f"budget execution PDF ({label})", pdf, args.pdf_rounds)
            report = budget_execution(YEAR, department_id=dep)
            html = render_html("pdf/budget_execution.html", report=report, chart=execution_chart(report),
                               generated="—", title="预算执行情况表")

            def weasy(html=html):
                HTML(string=html, base_url=STATIC_BASE, url_fetcher=PdfFetcher(app.static_folder)).write_pdf()
            run(f"WeasyPrint alone, same HTML ({label})", weasy, args.pdf_rounds)
            rows = sum(len(v) for v in report.projects.values()) + len(report.groups)
            print(f"<!-- {label}: {rows} table rows -->")

    bare_p50 = results[0][1]
    print("| what | p50 ms | p95 ms | SQL statements | p50 ÷ bare route |")
    print("|---|---:|---:|---:|---:|")
    for name, p50, p95, n in results:
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {n} | {p50 / bare_p50:.1f} |")
    by = {r[0]: r for r in results}
    for label in ("one department", "all departments") if args.pdf_rounds > 0 else ():
        ours, alone = by[f"budget execution PDF ({label})"], by[f"WeasyPrint alone, same HTML ({label})"]
        print(f"\nPDF ({label}) ÷ WeasyPrint alone: {ours[1] / alone[1]:.2f}")


if __name__ == "__main__":
    main()
