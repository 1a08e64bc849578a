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
from ..timeutil import local_today
from . import bases, importer, services
from .creditcode import ALPHABET, TYPE_DIGIT, check_character
from .models import CreditList, Organization, OrgKind

ORDER = 10
SAMPLE = Path(__file__).resolve().parent / "data" / "registry-sample.csv"
#: Districts of Chongqing (division code, name) with a few of their 街道 and a road in each:
#: an address names a street of its own district.
DISTRICTS = {
    "500103": ("渝中区", [("解放碑街道", "民族路"), ("解放碑街道", "邹容路"), ("七星岗街道", "中山一路"),
                        ("上清寺街道", "中山四路"), ("大坪街道", "长江二路")]),
    "500104": ("大渡口区", [("新山村街道", "松青路"), ("春晖路街道", "春晖路"), ("九宫庙街道", "文体路"),
                          ("跃进村街道", "钢花路")]),
    "500105": ("江北区", [("观音桥街道", "建新北路"), ("观音桥街道", "建新东路"), ("五里店街道", "五红路"),
                        ("寸滩街道", "海尔路"), ("石马河街道", "洋河北路")]),
    "500106": ("沙坪坝区", [("小龙坎街道", "小龙坎正街"), ("沙坪坝街道", "天陈路"), ("磁器口街道", "磁南街"),
                          ("渝碚路街道", "渝碚路"), ("天星桥街道", "天星桥正街")]),
    "500107": ("九龙坡区", [("杨家坪街道", "西郊路"), ("杨家坪街道", "杨家坪正街"), ("谢家湾街道", "谢家湾正街"),
                          ("石坪桥街道", "石杨路"), ("黄桷坪街道", "黄桷坪正街")]),
    "500108": ("南岸区", [("南坪街道", "南坪西路"), ("南坪街道", "江南大道"), ("花园路街道", "花园路"),
                        ("铜元局街道", "铜元局正街"), ("弹子石街道", "泰昌路")]),
    "500109": ("北碚区", [("天生街道", "天生路"), ("朝阳街道", "中山路"), ("北温泉街道", "温泉路"),
                        ("东阳街道", "云清路")]),
    "500112": ("渝北区", [("两路街道", "双龙大道"), ("龙溪街道", "新牌坊二路"), ("龙山街道", "龙山大道"),
                        ("回兴街道", "宝圣大道")]),
    "500113": ("巴南区", [("鱼洞街道", "巴县大道"), ("李家沱街道", "马王坪正街"), ("龙洲湾街道", "龙洲大道")]),
    "500116": ("江津区", [("几江街道", "鼎山大道"), ("鼎山街道", "滨江路")]),
    "500118": ("永川区", [("中山路街道", "中山路"), ("胜利路街道", "胜利路")]),
    "500101": ("万州区", [("高笋塘街道", "白岩路"), ("钟鼓楼街道", "红星路")]),
    "500117": ("合川区", [("合阳城街道", "南园路"), ("钓鱼城街道", "希尔安大道")]),
}
#: Where the generated organizations are registered (a city-level one has no district).
REGISTERED = [("500103", 5), ("500105", 5), ("500106", 4), ("500107", 4), ("500108", 4), ("500109", 3),
              ("500112", 4), ("500104", 2), ("500113", 2), ("500000", 3)]
#: The distinctive part of a name, as organizations choose them.
WORDS = ["阳光", "同心", "康乐", "启航", "仁爱", "邻里", "守望", "晨曦", "彩虹", "益心", "和美", "暖阳", "春晖",
         "向日葵", "乐龄", "善行", "众益", "夕阳红", "爱心", "山城", "巴渝", "嘉陵", "红岩", "桂花", "常青藤",
         "蒲公英", "萤火虫", "馨悦", "融爱", "安康", "福寿", "颐和", "乐享", "慈航", "博爱", "志远", "新起点",
         "睦邻", "友邻", "微光", "恒爱", "聚力", "众行", "知行", "同行", "心桥", "绿洲", "朝阳", "德馨", "怡乐"]
FIELDS = {OrgKind.SOCIAL_GROUP: ["志愿者协会", "老年协会", "社会工作者协会", "慈善会", "义工联合会",
                                 "老年人体育协会", "助残协会", "社区发展促进会", "家庭教育促进会"],
          OrgKind.SERVICE_ORG: ["社会工作服务中心", "养老服务中心", "残障支持中心", "青少年服务中心",
                                "社区服务中心", "居家养老服务中心", "康复服务中心", "家庭综合服务中心",
                                "社会工作服务社", "公益服务中心", "心理健康服务中心", "长者照护中心",
                                "社区发展中心"],
          OrgKind.FOUNDATION: ["公益基金会", "慈善基金会", "助学基金会"]}
TYPE_NAMES = {OrgKind.SOCIAL_GROUP: "社会团体", OrgKind.SERVICE_ORG: "民办非企业单位", OrgKind.FOUNDATION: "基金会"}
SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
            "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文")
GIVEN = ["建国", "晓梅", "志强", "丽华", "文静", "海燕", "国庆", "秀英", "春梅", "永红", "俊杰", "婷", "明辉",
         "红梅", "德明", "小兰", "雪梅", "开勇", "光荣", "家琪", "敏", "静", "伟", "勇", "芳", "军", "洁", "涛",
         "玉兰", "世平", "莉", "晓东", "桂芳", "长江", "学文", "淑珍", "朝晖", "思远", "慧", "宏伟", "兴华",
         "凤英", "正刚", "晓燕", "琳", "利民", "巧玲", "天明"]
GENERATED = 300


def person(rnd: random.Random) -> str:
    """A plausible Chinese name: a common surname and a one- or two-character given name."""
    return rnd.choice(SURNAMES) + rnd.choice(GIVEN)


def address(rnd: random.Random, division: str) -> str:
    """A street address in the district of ``division`` (any district for a city-level one)."""
    if division not in DISTRICTS:
        division = rnd.choice([d for d, _n in REGISTERED if d in DISTRICTS])
    district, streets = DISTRICTS[division]
    subdistrict, road = rnd.choice(streets)
    return f"重庆市{district}{subdistrict}{road}{rnd.randrange(1, 300)}号"


def _name(rnd: random.Random, kind: OrgKind, district: str, taken: set[str]) -> str:
    """District + distinctive word + field, unique: another combination when taken, then
    two distinctive words (never a digit)."""
    for words in (1, 1, 1, 1, 1, 2, 2, 2, 2, 2):
        distinctive = "".join(rnd.sample(WORDS, words))
        name = f"重庆市{district}{distinctive}{rnd.choice(FIELDS[kind])}"
        if name not in taken:
            return name
    raise RuntimeError("demo organization names exhausted")  # pragma: no cover - 50² words


def _code(kind: OrgKind, division: str, n: int) -> str:
    serial = ""
    for _ in range(7):
        serial = ALPHABET[n % 31] + serial
        n //= 31
    first = "5" + TYPE_DIGIT[kind] + division + "MD" + serial
    return first + check_character(first)


def _sample_names() -> set[str]:
    with open(SAMPLE, encoding="utf-8-sig", newline="") as fh:
        return {row["社会组织名称"] for row in csv.DictReader(fh)}


def generated_csv(n: int, today: date, seed: int = 2026) -> bytes:
    rnd = random.Random(seed)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["序号", "社会组织名称", "统一社会信用代码", "社会组织类型", "登记管理机关", "业务主管单位",
                "法定代表人", "成立登记日期", "住所", "登记状态"])
    names = _sample_names()  # never the name of a registry sample's organization either
    divisions = [d for d, weight in REGISTERED for _ in range(weight)]
    for i in range(n):
        kind = rnd.choices([OrgKind.SOCIAL_GROUP, OrgKind.SERVICE_ORG, OrgKind.FOUNDATION], [45, 53, 2])[0]
        division = rnd.choice(divisions)
        district = DISTRICTS[division][0] if division in DISTRICTS else ""
        name = _name(rnd, kind, district, names)
        names.add(name)
        reg = today - timedelta(days=rnd.randrange(200, 6000))
        authority = f"重庆市{district}民政局" if district else "重庆市民政局"
        supervisor = "重庆市民政局" if kind != OrgKind.SERVICE_ORG else ""
        w.writerow([i + 1, name, _code(kind, division, 1000 + i), TYPE_NAMES[kind], authority, supervisor,
                    person(rnd), f"{reg.year}年{reg.month}月{reg.day}日", address(rnd, division), "正常"])
    return buf.getvalue().encode("utf-8-sig")


def load(ctx: dict) -> None:
    admin = ctx["admin"]
    officer = ctx["users"].get("officer", admin)
    today = local_today()
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
                                        "address": "重庆市渝中区大坪街道长江二路96号", "area_sqm": 1200,
                                        "opened_on": date(2019, 6, 1),
                                        "facilities": "共享办公位 40 个、会议室 3 间、培训教室、路演厅"})
    base2 = bases.create_base(officer, {"name": "江北区社区社会组织孵化园", "operator": demo[2].credit_code,
                                        "address": "重庆市江北区观音桥街道建新东路88号", "area_sqm": 600,
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
