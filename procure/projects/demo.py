"""Demo projects: the guiding catalogue and projects in every state this issue drives
(draft, returned, submitted, approved, cancelled), on the appropriations the budgets
demo made. Their commitments come from real contracts (procure/contracts/demo.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from . import services as ps

ORDER = 45

CATALOGUE = [
    ("A01", "养老服务"), ("A02", "残疾人服务"), ("A03", "社会工作服务"), ("A04", "社区服务"),
    ("A05", "社会组织孵化培育"), ("A06", "儿童福利服务"),
]

#: title (the year is put in front, as the bureau writes it: "2026年…项目"), officer,
#: category code, ceiling, target beneficiaries, final state, allocation, served, service
#: area, target group, in which years (``all``: every fiscal year of the demo, approved in
#: the earlier ones; ``this``: the current year only). Amounts are budget figures: whole
#: multiples of 5,000 yuan.
PROJECTS = [
    ("渝中区高龄独居老人居家养老服务项目", "officer", "A01", "480000.00", 1200, "approved", "460000.00", 1180,
     "重庆市渝中区", "80周岁以上高龄、独居、失能老人", "all"),
    ("重庆市社会组织孵化基地运营服务项目", "officer", "A05", "350000.00", 60, "approved", "350000.00", 58,
     "重庆市渝中区", "初创期社区社会组织", "all"),
    ("中央财政支持社会组织参与社会服务项目（残疾人康复）", "officer", "A02", "600000.00", 800, "approved",
     "600000.00", 812, "重庆市北碚区、渝中区", "持证残疾人及其家庭", "all"),
    ("江北区困境儿童关爱社会工作服务项目", "officer2", "A06", "260000.00", 300, "submitted", None, None,
     "重庆市江北区", "困境儿童、留守儿童", "this"),
    ("渝中区社区社会组织培育公益创投项目", "officer", "A04", "150000.00", 500, "draft", None, None,
     "重庆市渝中区", "社区居民", "this"),
    ("沙坪坝区社区矫正社会工作服务项目", "officer2", "A03", "220000.00", 150, "returned", None, None,
     "重庆市沙坪坝区", "社区矫正对象及其家庭", "this"),
    ("渝中区老年助餐点运营服务项目", "officer", "A01", "120000.00", 200, "cancelled", "100000.00", None,
     "重庆市渝中区", "辖区60周岁以上老年人", "this"),
    ("江北区社区社会工作服务站运营项目", "officer2", "A03", "305000.00", 2000, "approved", "305000.00", 2150,
     "重庆市江北区", "社区困难群众、特殊群体", "all"),
    ("江北区“三社联动”社区服务示范项目", "officer2", "A04", "180000.00", 3000, "approved", "175000.00", 3120,
     "重庆市江北区", "社区居民", "all"),
    ("南岸区残疾人社区康复与就业支持服务项目", "officer2", "A02", "245000.00", 260, "submitted", None, None,
     "重庆市南岸区", "持证残疾人", "this"),
]


def load(ctx) -> None:
    admin, users = ctx["admin"], ctx["users"]
    finance = users["finance"]
    apprs, years = ctx["appropriations"], ctx["fiscal_years"]
    this_year = years[-1]
    cats = {code: ps.save_category(admin, None, code, name) for code, name in CATALOGUE}
    for year in years:
        for (title, officer_name, cat, ceiling, people, state, amount, served, area, group,
             when) in PROJECTS:
            if year != this_year and when != "all":
                continue
            officer = users[officer_name]
            dep_i = 0 if officer_name == "officer" else 1
            data = ps.ProjectData(
                title=f"{year}年{title}", category_id=cats[cat].id,
                fiscal_year=year, service_area=area, target_group=group, budget_ceiling=ceiling,
                method="public_tender" if Decimal(ceiling) > 400000 else "consultation",
                period_start=date(year, 3, 1), period_end=date(year, 12, 31),
                targets=[ps.TargetData("服务对象人数", "人", str(people), True),
                         ps.TargetData("服务满意度", "%", "90"), ps.TargetData("服务时长", "小时", "2400")],
                beneficiaries_served=served if year != this_year or state == "approved" else None)
            project = ps.create_project(officer, data)
            if state == "draft":
                continue
            ps.submit_project(officer, project)
            if state == "submitted":
                continue
            if state == "returned":
                ps.return_project(finance, project, "请补充服务时长的测算依据")
                continue
            lines = [(apprs[(year, dep_i, "general")].id, amount)]
            if cat == "A02":  # the central program with local matching funds
                lines = [(apprs[(year, 0, "central")].id, "450000.00"), (apprs[(year, 0, "matching")].id, "150000.00")]
            ps.approve_project(finance, project, lines, note="预算审核通过")
            if state == "cancelled":
                ps.cancel_project(officer, project, "选址调整，项目撤销")
                continue
            # Committed (and later paid) money comes from real contracts only: the contracts
            # demo drafts and signs them (procure/contracts/demo.py).
