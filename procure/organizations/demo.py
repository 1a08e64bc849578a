"""Demo registry: the registry sample and a few hundred generated organizations of all
kinds, some rated, some on a credit list, some with overdue annual reports, two
incubation bases with residents, and reminders the running demo sends to its SMTP sink
(ratings expiring in 7 and 60 days, an organization about to move to the serious list,
and whatever the daily scan finds)."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from pathlib import Path

from ..extensions import db
from ..reminders import engine
from . import bases, importer, services
from .creditcode import ALPHABET, TYPE_DIGIT, check_character
from .models import CreditList, Organization, OrgKind

ORDER = 10
SAMPLE = Path(__file__).resolve().parent / "data" / "registry-sample.csv"
DISTRICTS = [("500103", "渝中区"), ("500105", "江北区"), ("500106", "沙坪坝区"),
             ("500107", "九龙坡区"), ("500108", "南岸区"), ("500109", "北碚区"), ("500112", "渝北区"),
             ("500000", "")]
WORDS = ["阳光", "同心", "康乐", "启航", "仁爱", "邻里", "守望", "晨曦", "彩虹", "益心", "和美", "暖阳",
         "春晖", "向日葵"]
FIELDS = {OrgKind.SOCIAL_GROUP: ["志愿者协会", "老年协会", "社会工作者协会", "慈善会", "商会"],
          OrgKind.SERVICE_ORG: ["社会工作服务中心", "养老服务中心", "残障支持中心", "青少年服务中心",
                                "社区服务中心"],
          OrgKind.FOUNDATION: ["公益基金会", "慈善基金会"]}
TYPE_NAMES = {OrgKind.SOCIAL_GROUP: "社会团体", OrgKind.SERVICE_ORG: "民办非企业单位", OrgKind.FOUNDATION: "基金会"}
GENERATED = 300


def _code(kind: OrgKind, division: str, n: int) -> str:
    serial = ""
    for _ in range(7):
        serial = ALPHABET[n % 31] + serial
        n //= 31
    first = "5" + TYPE_DIGIT[kind] + division + "MD" + serial
    return first + check_character(first)


def generated_csv(n: int, today: date, seed: int = 2026) -> bytes:
    rnd = random.Random(seed)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["序号", "社会组织名称", "统一社会信用代码", "社会组织类型", "登记管理机关", "业务主管单位",
                "法定代表人", "成立登记日期", "住所", "登记状态"])
    names = set()
    for i in range(n):
        kind = rnd.choices([OrgKind.SOCIAL_GROUP, OrgKind.SERVICE_ORG, OrgKind.FOUNDATION], [45, 53, 2])[0]
        division, district = rnd.choice(DISTRICTS)
        name = f"重庆市{district}{rnd.choice(WORDS)}{rnd.choice(FIELDS[kind])}"
        while name in names:
            name = name[:-2] + f"{i}" + name[-2:]
        names.add(name)
        reg = today - timedelta(days=rnd.randrange(200, 6000))
        authority = f"重庆市{district}民政局" if district else "重庆市民政局"
        supervisor = "重庆市民政局" if kind != OrgKind.SERVICE_ORG else ""
        w.writerow([i + 1, name, _code(kind, division, 1000 + i), TYPE_NAMES[kind], authority, supervisor,
                    rnd.choice("王李张刘陈杨赵黄周吴") + rnd.choice("芳伟娜敏静强磊"),
                    f"{reg.year}年{reg.month}月{reg.day}日",
                    f"重庆市{district}民生路{rnd.randrange(1, 400)}号", "正常"])
    return buf.getvalue().encode("utf-8-sig")


def load(ctx: dict) -> None:
    admin = ctx["admin"]
    officer = ctx["users"].get("officer", admin)
    today = date.today()
    rnd = random.Random(7)
    # The registry sample (updates the foundation's demo organizations by credit code) and
    # a few hundred generated ones.
    importer.import_bytes(admin, SAMPLE.read_bytes(), filename="registry-sample.csv")
    importer.import_bytes(admin, generated_csv(GENERATED, today), filename="generated.csv")
    db.session.flush()
    orgs = list(db.session.query(Organization).filter(Organization.kind != OrgKind.FILED).order_by(Organization.id))
    demo = ctx["organizations"]  # 同心, 阳光, 启航, 康乐, the filed one
    filed_org = demo[4]
    filed_org.registration_date, filed_org.registration_authority = date(2022, 3, 1), "渝中区解放碑街道办事处"

    # Annual reports: most filed the last report due; about one in eight did not.
    year = services.last_due_year(today)
    for org in orgs:
        if org.registration_date and org.registration_date <= date(year, 12, 31):
            if org.id in {demo[2].id} or (org not in demo and rnd.random() < 0.12):
                continue
            services.record_annual_report(officer, org, year, services.annual_report_due(year) - timedelta(
                days=rnd.randrange(5, 120)))
    # Ratings: about one in six; the demo's own organizations expire soon (reminders).
    for org in orgs:
        if org not in demo and rnd.random() < 0.16:
            services.add_rating(officer, org, rnd.choice([2, 3, 3, 4, 4, 5]),
                                today - timedelta(days=rnd.randrange(30, 1700)))
    valid = services.add_years(today, -5) - today  # negative timedelta of five years
    services.add_rating(officer, demo[0], 4, today + timedelta(days=7) + valid)  # 同心: expires in 7 days
    services.add_rating(officer, demo[3], 3, today + timedelta(days=60) + valid)  # 康乐: in 60 days
    # Credit lists: a few abnormal, one serious; 阳光 moves to the serious list in 30 days.
    others = [o for o in orgs if o not in demo]
    for org in others[:6]:
        services.add_credit_entry(officer, org, CreditList.ABNORMAL, today - timedelta(days=rnd.randrange(30, 600)),
                                  "通过登记的住所无法联系")
    services.add_credit_entry(officer, others[6], CreditList.SERIOUS, today - timedelta(days=100),
                              "弄虚作假骗取登记")
    services.add_credit_entry(officer, demo[1], CreditList.ABNORMAL,
                              services.add_years(today + timedelta(days=30), -2), "未按规定报送年度工作报告")
    # The daily standing rules: missing reports are proposed to the officer.
    services.apply_standing_rules(today)

    # Two incubation bases with residents (the filed community organization among them).
    young = sorted(others[10:], key=lambda o: o.registration_date or today, reverse=True)
    base1 = bases.create_base(officer, {"name": "重庆市社会组织孵化基地（渝中）", "operator": demo[0].credit_code,
                                        "address": "重庆市渝中区民生路200号", "area_sqm": 1200,
                                        "opened_on": date(2019, 6, 1),
                                        "facilities": "共享办公位 40 个、会议室 3 间、培训教室、路演厅"})
    base2 = bases.create_base(officer, {"name": "江北区社区社会组织孵化园", "operator": demo[2].credit_code,
                                        "address": "重庆市江北区观音桥街道88号", "area_sqm": 600,
                                        "opened_on": date(2021, 3, 15),
                                        "facilities": "办公位 20 个、活动室、财务代账服务"})
    bases.add_resident(officer, base1, filed_org, today - timedelta(days=300))
    for i, org in enumerate(young[:8]):
        base = base1 if i % 2 == 0 else base2
        res = bases.add_resident(officer, base, org, today - timedelta(days=400 + 30 * i))
        if i >= 6:
            bases.graduate(officer, res, today - timedelta(days=20 * i))

    # Reminders due today: written now, sent by the worker to the SMTP sink after commit.
    db.session.flush()
    engine.scan(today)
