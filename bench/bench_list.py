"""Benchmark: the organization list over 17,343 organizations (the seed city's count),
with filters: p95 time per request and queries per request (constant whatever the size),
against a bare route (one primary-key query, a small template) in the same run.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_registry \\
        python bench/bench_list.py [organizations] [requests per case]

Up to 17,343 organizations come through the importer; beyond that (national scale, e.g.
900000) the rest are written with COPY, with names made of real-looking words (养老服务,
社会工作, …) so that Chinese searches of 2–4 characters find a realistic share, and the
search indexes are dropped before the COPY and built again after it. The search cases'
plans (EXPLAIN ANALYZE of the count and of the page query) are printed at the end.
"""

from __future__ import annotations

import io
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from bench_common import bench_app  # noqa: E402
from registry_data import DISTRICTS, MIX, code_for, csv_bytes  # noqa: E402

SEED = 17343
#: The search cases: 2, 3 and 4 Chinese characters, a credit-code fragment, and the old case.
SEARCHES = ["养老", "养老服", "养老服务", "青少年", "0105MJ000A4", "第1234"]
CASES = ["/bench/bare", "/organizations/", "/organizations/?kind=service_org", "/organizations/?rating=4",
         "/organizations/?standing=abnormal", "/organizations/?authority=重庆市江北区民政局",
         *(f"/organizations/?q={q}" for q in SEARCHES),
         "/organizations/?kind=social_group&rating=none&page=40",
         "/organizations/?missing_report=2024"]

PLACES = (
    "北京市 上海市 天津市 重庆市 河北省 山西省 辽宁省 吉林省 黑龙江省 江苏省 浙江省 安徽省 "
    "福建省 江西省 山东省 河南省 湖北省 湖南省 广东省 海南省 四川省 贵州省 云南省 陕西省 "
    "甘肃省 青海省 内蒙古自治区 广西壮族自治区 西藏自治区 宁夏回族自治区 "
).split()
TOWNS = (
    "东城 西城 南山 北湖 高新 滨江 临港 新城 金山 玉泉 龙泉 清水 石桥 花园 长安 永宁 和平 "
    "红星 建设 人民 平安 太平 天河 白云 黄河 长江 明珠 阳光 "
).split()
TOPICS = (
    "养老服务 居家养老 社会工作 青少年发展 志愿者 慈善 残疾人康复 社区营造 环境保护 文化艺术 "
    "体育健身 书法 摄影 老年大学 心理咨询 法律援助 科技创新 教育发展 家政服务 婴幼儿照护 "
    "妇女儿童 禁毒宣传 应急救援 乡村振兴 非遗传承 读书 围棋 足球 篮球 钓鱼 园艺 茶文化 中医药 "
    "护理 助学 助残 扶贫济困 邻里互助 物业服务 调解 退役军人服务 健康促进 红十字 环保科普 "
    "动物保护 戏曲 民乐 舞蹈 合唱 太极拳 棋类 登山 游泳 网球 老年人协会 个体劳动者 食品安全 "
    "消费者权益 律师 会计 "
).split()
SUFFIXES = (
    "协会 服务中心 促进会 服务社 研究会 联合会 商会 基金会 俱乐部 发展中心 "
).split()


def bulk_rows(start: int, stop: int):
    """Organizations ``start``..``stop`` (numbers, as in ``registry_data.rows``) for COPY."""
    rnd = random.Random(start)
    kinds = [k for k, c in MIX for _ in range(c)]
    for i in range(start, stop):
        kind = kinds[i % len(kinds)]
        division, district = DISTRICTS[i % len(DISTRICTS)]
        name = (f"{rnd.choice(PLACES)}{rnd.choice(TOWNS)}{rnd.choice(TOWNS)}{rnd.choice(TOPICS)}"
                f"{rnd.choice(SUFFIXES)}")
        yield (name, code_for(kind, division, i), kind.value, f"重庆市{district}民政局" if district else "重庆市民政局",
               "2026-01-01 00:00:00")


def bulk_fill(db, n: int) -> None:
    """Add organizations SEED..n with COPY, the search indexes dropped meanwhile."""
    from procure.organizations.models import Organization

    trgm = [ix for ix in Organization.__table__.indexes if ix.name.endswith(("_trgm", "_grams"))]
    conn = db.session.connection()
    for ix in trgm:
        ix.drop(conn)
    raw = conn.connection.driver_connection
    t0 = time.perf_counter()
    with raw.cursor() as cur:
        step = 100_000
        for start in range(SEED, n, step):
            buf = io.StringIO()
            for row in bulk_rows(start, min(n, start + step)):
                buf.write("\t".join(row) + "\n")
            with cur.copy("COPY organizations (name, credit_code, kind, registration_authority, created_at) "
                         "FROM STDIN") as cp:
                cp.write(buf.getvalue())
    t1 = time.perf_counter()
    for ix in trgm:
        ix.create(conn)
    print(f"COPY of {n - SEED} organizations {t1 - t0:.1f} s; "
          f"search indexes built in {time.perf_counter() - t1:.1f} s")


def explain(app, db, queries) -> None:
    """The plans of the list's count (capped, as the page counts) and page queries: the
    organization spec of procure.listing as the bench's officer sees it."""
    from procure import listing
    from procure.auth.models import User
    from procure.organizations.lists import ORGANIZATIONS as spec

    with app.test_request_context():
        officer = db.session.scalars(sa.select(User).where(User.username == "officer")).one()
        for q in queries:
            stmt = listing.select_for(spec, officer, {"q": q})
            capped = stmt.order_by(None).limit(spec.count_cap + 1).subquery()
            for label, s in [("count", sa.select(sa.func.count()).select_from(capped)),
                             ("page", stmt.limit(spec.per_page))]:
                compiled = s.compile(dialect=db.engine.dialect)
                plan = [r[0] for r in db.session.connection().exec_driver_sql(
                    "EXPLAIN (ANALYZE, COSTS OFF) " + str(compiled), compiled.params)]
                print(f"\n-- q={q} ({label})")
                print("\n".join(plan))
        db.session.rollback()


def main(n: int = SEED, reps: int = 60) -> None:
    app = bench_app()

    @app.route("/bench/bare")
    def bare():
        from flask import render_template_string

        org = db.session.get(Organization, random.randint(1, min(n, SEED)))
        return render_template_string("<p>{{ name }}</p>", name=org.name if org else "")
    from procure import audit
    from procure.auth import services as accounts
    from procure.auth.models import User
    from procure.extensions import db
    from procure.organizations import importer
    from procure.organizations.models import CreditStanding, Organization
    from procure.roles import Role

    with app.test_request_context():
        importer.import_bytes(None, csv_bytes(min(n, SEED)))
        if n > SEED:
            bulk_fill(db, n)
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
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # as autovacuum would have done: table and GIN statistics up to date
            conn.execute(sa.text("VACUUM ANALYZE"))
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "bench-password-1"})
    with app.app_context():
        engine = db.engine
    count = {"n": 0}
    sa.event.listen(engine, "before_cursor_execute", lambda *a: count.__setitem__("n", count["n"] + 1))
    print(f"{n} organizations, {reps} requests per case")
    print(f"{'case':<55} {'p50 ms':>8} {'p95 ms':>8} {'p95 ÷ bare':>10} {'queries':>8}")
    floor = None
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
        floor = floor or p95
        print(f"{path:<55} {statistics.median(times):8.1f} {p95:8.1f} {p95 / floor:10.1f} "
              f"{','.join(map(str, sorted(queries))):>8}")
    explain(app, db, SEARCHES)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
