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

#: title, officer, category code, ceiling, target beneficiaries, final state, allocation, served
PROJECTS = [
    ("渝中区高龄独居老人居家养老服务", "officer", "A01", "480000.00", 1200, "approved", "460000.00", 1180),
    ("社会组织孵化基地运营服务", "officer", "A05", "350000.00", 60, "approved", "350000.00", 58),
    ("中央财政支持社会组织参与社会服务项目（残疾人康复）", "officer", "A02", "600000.00", 800, "approved",
     "599999.99", 812),
    ("困境儿童关爱社会工作服务", "officer2", "A06", "260000.00", 300, "submitted", None, None),
    ("社区社会组织培育公益创投", "officer", "A04", "150000.00", 500, "draft", None, None),
    ("社区矫正社会工作服务", "officer2", "A03", "220000.00", 150, "returned", None, None),
    ("老年助餐点运营服务（已撤销）", "officer", "A01", "120000.00", 200, "cancelled", "100000.00", None),
]


def load(ctx) -> None:
    admin, users = ctx["admin"], ctx["users"]
    finance = users["finance"]
    apprs, years = ctx["appropriations"], ctx["fiscal_years"]
    this_year = years[-1]
    cats = {code: ps.save_category(admin, None, code, name) for code, name in CATALOGUE}
    for year in years:
        for title, officer_name, cat, ceiling, people, state, amount, served in PROJECTS:
            if year != this_year and state not in ("approved",):
                continue
            officer = users[officer_name]
            dep_i = 0 if officer_name == "officer" else 1
            data = ps.ProjectData(
                title=title if year == this_year else f"{title}（{year}年度）", category_id=cats[cat].id,
                fiscal_year=year, service_area="重庆市渝中区" if dep_i == 0 else "重庆市江北区",
                target_group="高龄、独居、失能老人" if cat == "A01" else "服务对象", budget_ceiling=ceiling,
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
                lines = [(apprs[(year, 0, "central")].id, "450000.00"), (apprs[(year, 0, "matching")].id, "149999.99")]
            ps.approve_project(finance, project, lines, note="预算审核通过")
            if state == "cancelled":
                ps.cancel_project(officer, project, "选址调整，项目撤销")
                continue
            # Committed (and later paid) money comes from real contracts only: the contracts
            # demo drafts and signs them (procure/contracts/demo.py).
