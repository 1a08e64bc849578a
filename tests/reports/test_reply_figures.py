"""The program summary reproduces an annual reply's figures at full size, from data
entered through the services (budget check, registry import), not typed into the report:

    2012–2018: 125 centrally funded projects, 40.03 million yuan of central funds,
    21.63 million yuan of local and social matching funds, 117,152 beneficiaries;
    17,343 registered organizations: 7,767 social groups, 9,499 social service
    organizations, 77 foundations.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from decimal import Decimal

from flask import render_template
from flask_babel import force_locale

from procure.organizations import importer
from procure.organizations.models import OrgKind
from procure.projects import services as ps
from procure.projects.services import TargetData
from procure.reports.summary import program_summary
from procure.roles import Role

from ..factories import credit_code

YEARS = range(2012, 2019)
N_PROJECTS = 125
CENTRAL = Decimal("40030000.00")
MATCHING = Decimal("21630000.00")
SERVED = 117152
ORGS = {OrgKind.SOCIAL_GROUP: 7767, OrgKind.SERVICE_ORG: 9499, OrgKind.FOUNDATION: 77}
KIND_NAMES = {OrgKind.SOCIAL_GROUP: "社会团体", OrgKind.SERVICE_ORG: "社会服务机构", OrgKind.FOUNDATION: "基金会"}


def _plan():
    """125 projects over 2012–2018: (year, central, matching, served, targeted) each,
    amounts to the fen, summing exactly to the reply's figures."""
    plan = []
    for i in range(N_PROJECTS):
        # deltas over each run of five projects cancel out: -2, -1, 0, 1, 2
        central = CENTRAL / N_PROJECTS + ((i % 5) - 2) * Decimal("1234.56")
        matching = MATCHING / N_PROJECTS + ((i % 5) - 2) * Decimal("789.01")
        served = SERVED // N_PROJECTS + (1 if i < SERVED % N_PROJECTS else 0)
        plan.append((YEARS[i % len(YEARS)], central.quantize(Decimal("0.01")), matching.quantize(Decimal("0.01")),
                     served, 1000 + i % 3 * 100))
    assert sum(p[1] for p in plan) == CENTRAL and sum(p[2] for p in plan) == MATCHING
    assert sum(p[3] for p in plan) == SERVED
    return plan


def _registry_export() -> bytes:
    """The registry's export (CSV, as Excel writes it) of 17,343 organizations."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["序号", "社会组织名称", "统一社会信用代码", "社会组织类型", "登记管理机关", "成立登记日期", "登记状态"])
    n = 0
    for kind, count in ORGS.items():
        for i in range(count):
            n += 1
            w.writerow([n, f"重庆市测试{KIND_NAMES[kind]}{i + 1}", credit_code(kind, 500000 + n), KIND_NAMES[kind],
                        "重庆市民政局", "2010年3月1日", "正常"])
    return buf.getvalue().encode("utf-8-sig")


def _enter_reply_data(make, db):
    officer = make.user(Role.OFFICER)
    finance = make.finance()
    categories = [make.category(name) for name in ("养老服务", "残疾人服务", "儿童关爱")]
    plan = _plan()
    per_year = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for year, central, matching, _served, _targeted in plan:
        per_year[year][0] += central
        per_year[year][1] += matching
    central_appr, matching_appr = {}, {}
    for year in YEARS:
        # appropriations a little larger than what the year's projects use
        central_appr[year] = make.appropriation(officer.department, per_year[year][0] + 500000, year=year,
                                                source="central")
        matching_appr[year] = make.appropriation(officer.department, per_year[year][1] + 300000, year=year,
                                                 source="matching")
    for i, (year, central, matching, served, targeted) in enumerate(plan):
        p = make.project(officer, year=year, category=categories[i % 3], ceiling="600000.00",
                         targets=[TargetData("服务对象人数", "人", str(targeted), True),
                                  TargetData("服务时长", "小时", "1500")])
        ps.submit_project(officer, p)
        ps.approve_project(finance, p, [(central_appr[year].id, central), (matching_appr[year].id, matching)])
        ps.record_beneficiaries_served(officer, p, served)
    # Not centrally funded, or cancelled: not in the reply's figures.
    lottery = make.appropriation(officer.department, "1000000.00", year=2015, source="lottery")
    make.approved_project(officer, lottery, "250000.00", year=2015, category=categories[0], served=999,
                        ceiling="300000.00")
    gone = make.approved_project(officer, central_appr[2016], "100000.00", year=2016, category=categories[1],
                                 served=5)
    ps.cancel_project(officer, gone, "撤销")

    result = importer.import_bytes(officer, _registry_export(), filename="登记管理系统导出.csv")
    assert not result.errors and result.applied and len(result.created) == sum(ORGS.values())
    make.organization(kind=OrgKind.FILED)  # a filed community group is not a registered organization
    make.commit()


def _headline(app, summary, locale: str) -> str:
    with app.test_request_context(), force_locale(locale):
        html = render_template("reports/_summary_headline.html", s=summary)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_summary_reproduces_the_reply_sentence(app, make, db):
    _enter_reply_data(make, db)
    s = program_summary(2012, 2018)
    assert s.central_projects == 125
    assert s.central_funds == CENTRAL and s.matching_funds == MATCHING
    assert s.beneficiaries_served == SERVED
    assert s.organizations == {"social_group": 7767, "service_org": 9499, "foundation": 77, "filed": 1}
    assert s.registered_organizations == 17343
    assert s.beneficiaries_targeted == Decimal(sum(p[4] for p in _plan())) + 300  # + the lottery-funded one
    assert _headline(app, s, "en") == (
        "2012–2018: 125 centrally funded projects, 40.03 million yuan of central funds, 21.63 million yuan of "
        "local and social matching funds, 117,152 beneficiaries; 17,343 registered organizations: "
        "7,767 social groups, 9,499 social service organizations, 77 foundations.")
    zh = _headline(app, s, "zh_CN")
    assert "中央财政资金 4,003.00万元" in zh and "地方及社会配套资金 2,163.00万元" in zh
    assert "中央财政资助项目 125 个" in zh and "受益 117,152 人次" in zh
    assert "登记社会组织 17,343 家，其中社会团体 7,767 家、社会服务机构 9,499 家、基金会 77 家" in zh
