"""Benchmark: the public portal's pages over many calls (issue 9): p50/p95 per request
and SQL statements per request (constant whatever the size), against a bare route (one
primary-key query, a small template) in the same run.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_portal \\
        python bench/bench_portal.py [calls] [requests per case]

The calls are spread over the states (open, opened, awarded, failed, cancelled, drafts
that never show), one in ten by invitation; each opened call has five opened bids from
300 organizations. Rows are written in bulk (the tender services are not what is
measured).

The cases take turns, one request each, so that a change in the machine's load (other
work on a shared box) weighs on the bare route as on the pages it is the floor of; the
CPU column is this process's CPU time per request (p50), which the neighbours move less
than the wall clock."""

from __future__ import annotations

import base64
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from bench_common import bench_app  # noqa: E402

TOPICS = "居家养老 社区矫正 青少年心理 残疾人康复 社会工作 禁毒宣传 家庭教育 邻里互助 应急救援 助学".split()


def seed(app, n: int) -> dict:
    from datetime import date

    from procure import audit
    from procure.auth import services as accounts
    from procure.auth.models import User
    from procure.extensions import db
    from procure.organizations.models import Organization, OrgKind
    from procure.projects.models import ProcurementMethod
    from procure.projects.services import ProjectData, TargetData, create_project, save_category
    from procure.roles import Role
    from procure.tenders.content import ensure_data_key
    from procure.tenders.models import Bid, BidState, Tender, TenderState
    from procure.timeutil import utcnow

    rnd = random.Random(7)
    with app.test_request_context():
        admin = User(username="admin", email="a@x.org", name="admin", role=Role.ADMIN)
        admin.set_password("bench-password-1")
        db.session.add(admin)
        db.session.flush()
        audit.record(None, "user.create", admin, after=admin.snapshot())
        deps = [accounts.create_department(admin, f"民政局{i}", f"MZJ{i}") for i in range(5)]
        officers = [accounts.create_user(admin, accounts.UserData(
            username=f"officer{i}", email=f"o{i}@x.org", name=f"officer{i}", role=Role.OFFICER, locale="zh_CN",
            department_id=d.id, organization_id=None), "bench-password-1") for i, d in enumerate(deps)]
        cat = save_category(admin, None, "C1", "养老服务")
        projects = [create_project(officers[i % 5], ProjectData(
            title=f"项目{i}", category_id=cat.id, fiscal_year=2026, service_area="渝中区", target_group="老人",
            budget_ceiling="300000.00", method=ProcurementMethod.PUBLIC_TENDER.value,
            period_start=date(2026, 3, 1), period_end=date(2026, 12, 31),
            targets=[TargetData("服务人数", "人", "100", True)])) for i in range(20)]
        db.session.execute(sa.insert(Organization), [
            {"name": f"重庆市社会组织{i}", "kind": OrgKind.SERVICE_ORG, "contact_name": "联系人",
             "contact_phone": "13900000000"} for i in range(300)])
        org_ids = list(db.session.scalars(sa.select(Organization.id)))
        key_holder = Tender(project_id=projects[0].id, department_id=projects[0].department_id,
                            method=ProcurementMethod.PUBLIC_TENDER, title="key", created_by_id=officers[0].id)
        ensure_data_key(key_holder)
        wrapped, key_id = key_holder.wrapped_data_key, key_holder.data_key_id
        now = utcnow()
        states = [TenderState.PUBLISHED] * 4 + [TenderState.CLOSED, TenderState.EVALUATING, TenderState.AWARDED,
                                                  TenderState.FINAL, TenderState.FAILED, TenderState.CANCELLED,
                                                  TenderState.DRAFT]
        rows = []
        for i in range(n):
            state = states[i % len(states)]
            p = projects[i % len(projects)]
            opening = now + timedelta(hours=rnd.randint(24, 24 * 40)) if state == TenderState.PUBLISHED \
                else now - timedelta(hours=rnd.randint(24, 24 * 300))
            # One call in ten by invitation (invited tender, single source): the portal lists
            # those open for bids in their own section.
            method = {0: ProcurementMethod.INVITED_TENDER, 5: ProcurementMethod.SINGLE_SOURCE}.get(
                i % 10, ProcurementMethod.PUBLIC_TENDER)
            row = {"project_id": p.id, "department_id": p.department_id, "method": method,
                   "state": state, "title": f"{rnd.choice(TOPICS)}服务项目第{i}号采购公告", "description": "服务内容",
                   "created_by_id": officers[i % 5].id, "price_weight": Decimal("30.00"),
                   "single_source_organization_id": org_ids[i % len(org_ids)]
                   if method == ProcurementMethod.SINGLE_SOURCE else None}
            if state != TenderState.DRAFT:
                row.update(published_at=opening - timedelta(days=21), deadline_at=opening, opening_at=opening,
                           wrapped_data_key=wrapped, data_key_id=key_id)
            if state in (TenderState.CLOSED, TenderState.EVALUATING, TenderState.AWARDED, TenderState.FINAL):
                row["opened_at"] = opening
            if state in (TenderState.FAILED, TenderState.CANCELLED):
                row["reason"] = "有效投标不足"
            if state in (TenderState.AWARDED, TenderState.FINAL):
                row["state"] = TenderState.CLOSED  # awarded below, once its bids exist
            rows.append(row)
        db.session.execute(sa.insert(Tender), rows)
        intended = dict(zip(db.session.scalars(sa.select(Tender.id).order_by(Tender.id)),
                            [states[i % len(states)] for i in range(n)], strict=True))
        opened = [(tid, intended[tid], at) for tid, at in db.session.execute(
            sa.select(Tender.id, Tender.opened_at).where(Tender.opened_at.is_not(None)))]
        bids = []
        for tid, _state, at in opened:
            for k, org in enumerate(rnd.sample(org_ids, 5)):
                bids.append({"tender_id": tid, "organization_id": org, "state": BidState.OPENED,
                             "sealed_content": b"x", "sealed_sha256": "0" * 64, "submitted_at": at,
                             "receipt_no": f"R-{tid}-{k}", "price": Decimal(rnd.randint(100000, 290000)),
                             "opened_at": at, "created_by_id": officers[0].id})
        for start in range(0, len(bids), 5000):
            db.session.execute(sa.insert(Bid), bids[start:start + 5000])
        first_bid = {tid: None for tid, *_ in opened}
        for tid, bid_id in db.session.execute(sa.select(Bid.tender_id, sa.func.min(Bid.id)).group_by(Bid.tender_id)):
            first_bid[tid] = bid_id
        for tid, state, at in opened:
            if state in (TenderState.AWARDED, TenderState.FINAL):
                db.session.execute(sa.update(Tender).where(Tender.id == tid).values(
                    state=state, awarded_bid_id=first_bid[tid], award_notice_at=at + timedelta(days=10),
                    publicity_ends_at=at + timedelta(days=17), challenge_ends_at=at + timedelta(days=19)))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        pick = {s: db.session.scalar(sa.select(Tender.id).where(Tender.state == s).limit(1))
                for s in (TenderState.PUBLISHED, TenderState.AWARDED)}
        return {"open": pick[TenderState.PUBLISHED], "awarded": pick[TenderState.AWARDED], "bids": len(bids)}


def main(n: int = 20000, reps: int = 60) -> None:
    app = bench_app()
    app.config["MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode("ascii")
    from procure.extensions import db
    from procure.tenders.models import Tender

    @app.route("/bench/bare")
    def bare():
        from flask import render_template_string

        t = db.session.get(Tender, random.randint(1, n))
        return render_template_string("<p>{{ name }}</p>", name=t.title if t else "")

    t0 = time.perf_counter()
    ids = seed(app, n)
    print(f"{n} calls, {ids['bids']} bids seeded in {time.perf_counter() - t0:.1f} s; {reps} requests per case")
    cases = ["/bench/bare", "/portal/", "/portal/?section=invited", "/portal/?section=opened",
             "/portal/?section=awards", "/portal/?section=ended", "/portal/?q=养老", "/portal/?q=心理&page=3",
             "/portal/?page=200",
             f"/portal/calls/{ids['open']}", f"/portal/calls/{ids['awarded']}"]
    client = app.test_client()
    with app.app_context():
        engine = db.engine
    count = {"n": 0}
    sa.event.listen(engine, "before_cursor_execute", lambda *a: count.__setitem__("n", count["n"] + 1))
    print(f"{'case':<40} {'p50 ms':>8} {'p95 ms':>8} {'p95 ÷ bare':>10} {'CPU ms':>7} {'queries':>8}")
    times = {path: [] for path in cases}
    cpu = {path: [] for path in cases}
    queries = {path: set() for path in cases}
    for path in cases:  # warm up: templates compiled, statements cached, connections made
        for _ in range(5):
            assert client.get(path).status_code == 200, path
    for _ in range(reps):
        for path in cases:
            count["n"] = 0
            t1, c1 = time.perf_counter(), time.process_time()
            resp = client.get(path)
            times[path].append((time.perf_counter() - t1) * 1000)
            cpu[path].append((time.process_time() - c1) * 1000)
            queries[path].add(count["n"])
            assert resp.status_code == 200, path
    floor = None
    for path in cases:
        ordered = sorted(times[path])
        p95 = ordered[int(len(ordered) * 0.95) - 1]
        floor = floor or p95
        print(f"{path:<40} {statistics.median(ordered):8.1f} {p95:8.1f} {p95 / floor:10.1f} "
              f"{statistics.median(cpu[path]):7.1f} {','.join(map(str, sorted(queries[path]))):>8}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
