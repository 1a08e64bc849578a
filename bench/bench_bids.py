"""Benchmark: 200 bids submitted concurrently in the last minute before a deadline on
PostgreSQL, then the opening of the 200 bids (decrypt, verify, record) and the opening
record PDF.

Each of 200 organizations holds a saved (sealed) draft; the submissions are spread over
the WINDOW seconds before the deadline plus 10% after it, on THREADS threads (each its
own session, commit per submission, like requests). Checked: every accepted bid is
recorded as submitted, none was accepted at or after the deadline, every refusal came
after it. Then the opening as the beat runs it, and the PDF job's work.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_bids \\
        python bench/bench_bids.py [bids] [window seconds] [threads]
"""

from __future__ import annotations

import base64
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_bids")

import sqlalchemy as sa  # noqa: E402
from bench_common import bench_app  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else 0.0


def main(n: int = 200, window: float = 30.0, threads: int = 12) -> None:
    os.environ.setdefault("PROCURE_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    app = bench_app()
    app.config["MASTER_KEY"] = os.environ["PROCURE_MASTER_KEY"]
    from procure.auth import services as accounts
    from procure.auth.models import User
    from procure.budgets.services import create_appropriation, ensure_funding_sources
    from procure.errors import DomainError
    from procure.extensions import db
    from procure.organizations.models import AnnualReport, Organization, OrgKind, ReportStatus
    from procure.organizations.services import annual_report_due, last_due_year
    from procure.projects.services import (
        ProjectData,
        TargetData,
        approve_project,
        create_project,
        save_category,
        submit_project,
    )
    from procure.roles import Role
    from procure.tenders import bidding, events
    from procure.tenders.models import Bid, BidState, Tender
    from procure.timeutil import to_local, utcnow

    with app.test_request_context():
        admin = User(username="admin", email="admin@bench.local", name="管理员", role=Role.ADMIN)
        admin.set_password("bench-password-1")
        db.session.add(admin)
        db.session.flush()
        dep = accounts.create_department(admin, "民政局", "MZJ")
        mk = lambda u, role, **kw: accounts.create_user(admin, accounts.UserData(  # noqa: E731
            username=u, email=f"{u}@bench.local", name=u, role=role, locale="zh_CN", **kw), "bench-password-1")
        officer = mk("officer", Role.OFFICER, department_id=dep.id)
        finance = mk("finance", Role.FINANCE, department_id=dep.id)
        src = {s.code: s for s in ensure_funding_sources()}
        year = utcnow().year
        appr = create_appropriation(finance, source_id=src["general"].id, fiscal_year=year, department_id=dep.id,
                                    amount="5000000.00")
        cat = save_category(admin, None, "A01", "养老服务")
        project = create_project(officer, ProjectData(
            title="基准测试项目", category_id=cat.id, fiscal_year=year, service_area="渝中区", target_group="老人",
            budget_ceiling="1000000.00", method="public_tender", period_start=date(year, 1, 1),
            period_end=date(year, 12, 31), targets=[TargetData("人数", "人", "100", True)]))
        submit_project(officer, project)
        approve_project(finance, project, [(appr.id, "900000.00")])
        today = to_local(utcnow()).date()
        ry = last_due_year(today)
        users = []
        for i in range(n):
            org = Organization(name=f"基准社会组织{i:03d}", kind=OrgKind.SERVICE_ORG,
                               registration_date=date(2015, 1, 1))
            db.session.add(org)
            db.session.flush()
            db.session.add(AnnualReport(organization_id=org.id, year=ry, due_date=annual_report_due(ry),
                                        status=ReportStatus.FILED, filed_on=annual_report_due(ry) - timedelta(days=9)))
            users.append(mk(f"org{i:03d}", Role.ORG, organization_id=org.id))
        published = utcnow() + timedelta(minutes=1)
        deadline = bidding.earliest_deadline("public_tender", published) + timedelta(days=1)
        tender = bidding.create_tender(officer, bidding.TenderData(
            project_id=project.id, title="基准采购", method="public_tender", published_at=published,
            deadline_at=deadline, opening_at=deadline, price_weight="30",
            criteria=[bidding.CriterionData("服务方案", "70", "70")]))
        bidding.publish_tender(officer, tender)
        for i, u in enumerate(users):
            price = f"{800000 + i * 10}.00"
            bidding.save_bid(u, tender, bidding.BidData(
                price=price, proposal=f"服务方案 {i} " + "内容" * 500,
                breakdown=[bidding.LineData("personnel", str(int(price[:-3]) - 50000) + ".00"),
                           bidding.LineData("admin", "50000.00")]))
        db.session.commit()
        tender_id = tender.id
        user_ids = [u.id for u in users]
        bid_ids = dict(db.session.execute(sa.select(Bid.created_by_id, Bid.id)).all())
        db.session.remove()

    # The deadline: WINDOW seconds from now; submissions spread over the window and 10% past it.
    start = time.monotonic()
    deadline_at = utcnow() + timedelta(seconds=window)
    with app.app_context():
        db.session.execute(sa.update(Tender).where(Tender.id == tender_id).values(
            published_at=deadline_at - timedelta(days=30), deadline_at=deadline_at, opening_at=deadline_at,
            next_event_at=deadline_at))
        db.session.commit()
        db.session.remove()
    offsets = [window * 1.1 * i / n for i in range(n)]
    latencies, accepted, refused, errors = [], [], [], []
    lock = threading.Lock()

    def one(i):
        wait = start + offsets[i] - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        with app.test_request_context():
            t0 = time.perf_counter()
            try:
                user = db.session.get(User, user_ids[i])
                bidding.submit_bid(user, db.session.get(Bid, bid_ids[user_ids[i]]))
                db.session.commit()
                done = utcnow()
                with lock:
                    accepted.append((i, done))
            except DomainError as exc:
                db.session.rollback()
                with lock:
                    refused.append((i, utcnow(), str(exc.message)[:60]))
            except Exception as exc:  # pragma: no cover
                db.session.rollback()
                errors.append(repr(exc))
            finally:
                with lock:
                    latencies.append(time.perf_counter() - t0)
                db.session.remove()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(n)))
    with app.app_context():
        rows = db.session.execute(sa.select(Bid.state, Bid.submitted_at).where(Bid.tender_id == tender_id)).all()
        submitted = [r for r in rows if r.state == BidState.SUBMITTED]
        late = [r for r in submitted if r.submitted_at >= deadline_at]
        db.session.remove()
    print(f"submissions: {n} on {threads} threads over {window * 1.1:.0f}s; accepted {len(accepted)}, "
          f"refused {len(refused)}, errors {len(errors)}")
    print(f"  recorded as submitted: {len(submitted)} (must equal accepted); accepted at/after the deadline: "
          f"{len(late)}; refusals before the deadline: {sum(1 for _i, t, _m in refused if t < deadline_at)}")
    print(f"  submission latency: median {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {pct(latencies, 95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    assert len(submitted) == len(accepted) and not late and not errors, (errors[:3], len(late))

    while utcnow() < deadline_at:
        time.sleep(0.2)
    with app.test_request_context():
        t0 = time.perf_counter()
        result = events.apply_event(tender_id)
        t_open = time.perf_counter() - t0
        tender = db.session.get(Tender, tender_id)
        record = events.opening_record(tender)
        print(f"opening of {len(record['bids'])} bids (decrypt, verify, record): {t_open:.2f}s -> {result}, "
              f"valid {record['valid']}")
        t0 = time.perf_counter()
        pdf = events.opening_pdf(tender, record)
        print(f"opening record PDF ({len(record['bids'])} rows): {time.perf_counter() - t0:.2f}s, {len(pdf)} bytes")


if __name__ == "__main__":
    args = [float(a) for a in sys.argv[1:]]
    main(int(args[0]) if args else 200, args[1] if len(args) > 1 else 30.0, int(args[2]) if len(args) > 2 else 12)
