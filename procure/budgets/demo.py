"""Demo budgets: appropriations for three fiscal years from the four funding sources,
with adjustments. The projects that use them are in ``procure/projects/demo.py``, the
generated report in ``procure/reports/demo.py``."""

from __future__ import annotations

from ..timeutil import utcnow
from . import services as bs

ORDER = 40

#: (department index, source code, amount) per year: budget figures, in whole 万元
APPROPRIATIONS = [
    (0, "general", "3200000.00"), (0, "lottery", "1500000.00"), (0, "central", "2000000.00"),
    (0, "matching", "800000.00"), (1, "general", "1800000.00"), (1, "lottery", "950000.00"),
]


def load(ctx) -> None:
    deps, users = ctx["departments"], ctx["users"]
    finance = users["finance"]
    bs.ensure_funding_sources()
    sources = {s.code: s for s in bs.funding_sources()}
    this_year = utcnow().year
    years = [this_year - 2, this_year - 1, this_year]
    apprs = {}
    for year in years:
        for dep_i, code, amount in APPROPRIATIONS:
            apprs[(year, dep_i, code)] = bs.create_appropriation(
                finance, source_id=sources[code].id, fiscal_year=year, department_id=deps[dep_i].id,
                amount=amount, reference=f"渝财社〔{year}〕{10 + dep_i}号")
    bs.adjust_appropriation(finance, apprs[(this_year, 0, "general")], "250000.00", "年中追加：居家养老服务扩面")
    bs.adjust_appropriation(finance, apprs[(this_year, 1, "lottery")], "-50000.00", "彩票公益金收入调减")

    # The modules above budgets (projects, reports) continue from these.
    ctx["appropriations"] = apprs
    ctx["fiscal_years"] = years
