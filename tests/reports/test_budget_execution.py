"""The budget execution report: one function, the same totals in the web page, the xlsx
and the command line, equal to totals computed independently from the generated data;
amounts with fen survive every round trip."""

from __future__ import annotations

import random
import re
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from procure.budgets import services as bs
from procure.projects import services as ps
from procure.roles import Role

from ..conftest import login

YEAR = 2025
COLS = ("appropriated", "allocated", "committed", "paid", "remaining")


def _fen(rng) -> Decimal:
    return Decimal(rng.randint(1, 9_999_999)) / 100


@pytest.fixture()
def dataset(make, db):
    """Departments × sources with appropriations, projects approved from them, part of
    the money committed and paid; the expected totals summed here from the inputs."""
    rng = random.Random(4)
    fin = make.finance()
    fin.locale = "en"
    exp = dict.fromkeys(COLS, Decimal("0.00"))
    by_source: dict[str, Decimal] = {}
    for _d in range(3):
        officer = make.user(Role.OFFICER)
        for code in ("general", "lottery", "central"):
            amount = _fen(rng) + Decimal("200000.00")
            appr = make.appropriation(officer.department, str(amount), year=YEAR, source=code)
            exp["appropriated"] += amount
            by_source[code] = by_source.get(code, Decimal("0")) + amount
            for _p in range(2):
                alloc_amt = _fen(rng) % Decimal("90000") + Decimal("0.01")
                project = make.approved_project(officer, appr, str(alloc_amt), ceiling="100000.00", year=YEAR)
                exp["allocated"] += alloc_amt
                committed = (alloc_amt * Decimal("0.7")).quantize(Decimal("0.01"))
                bs.commit_funds(fin, project.allocations[0].id, committed)
                paid = (committed / 3).quantize(Decimal("0.01"))
                bs.pay(fin, project.allocations[0].id, paid)
                exp["committed"] += committed
                exp["paid"] += paid
        # a cancelled project: its money is released and appears nowhere
        p = make.approved_project(officer, appr, "333.33", ceiling="1000.00", year=YEAR)
        ps.cancel_project(officer, p, "取消")
    # another year must not leak into the report
    make.appropriation(make.user(Role.OFFICER).department, "777.77", year=YEAR + 1)
    exp["remaining"] = exp["appropriated"] - exp["allocated"]
    make.commit()
    return fin, exp, by_source


def test_one_function_totals(dataset):
    from procure.budgets.reports import budget_execution

    _fin, exp, by_source = dataset
    report = budget_execution(YEAR)
    assert {c: getattr(report.total, c) for c in COLS} == exp
    assert report.total.rate == (exp["paid"] * 100 / exp["appropriated"]).quantize(Decimal("0.1"))
    assert sum(len(v) for v in report.projects.values()) == 18 + 3  # cancelled ones still have rows (0 allocated)
    # every project row adds up to its group
    for g in report.groups:
        rows = report.projects[g.key]
        assert sum((r.allocated for r in rows), Decimal(0)) == g.allocated
        assert sum((r.paid for r in rows), Decimal(0)) == g.paid
    lottery = next(s for s in bs.funding_sources() if s.code == "lottery")
    only = budget_execution(YEAR, source_id=lottery.id)
    assert only.total.appropriated == by_source["lottery"]


def _money_cells(html: str, where: str) -> dict[str, Decimal]:
    part = html.split(where, 1)[1].split("</tr>", 1)[0]
    out = {}
    for col, text in re.findall(r'data-col="(\w+)">([^<]*)<', part):
        out[col] = Decimal(re.sub(r"[^\d.\-]", "", text))
    return out


def test_page_and_xlsx_show_the_same_totals(client, dataset):
    fin, exp, _ = dataset
    login(client, fin.username)
    page = client.get(f"/reports/budget-execution?year={YEAR}").get_data(as_text=True)
    assert _money_cells(page, "<tfoot>") == exp
    assert "<svg" in page and 'data-series="paid"' in page

    resp = client.get(f"/reports/budget-execution.xlsx?year={YEAR}")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(BytesIO(resp.data))
    ws = wb.worksheets[0]
    total_row = next(r for r in ws.iter_rows(min_row=5) if r[0].value == "Total")
    got = {c: Decimal(repr(total_row[3 + i].value)) for i, c in enumerate(COLS)}
    assert got == exp
    assert total_row[3].number_format == "#,##0.00"
    assert all(isinstance(total_row[3 + i].value, int | float) for i in range(5))  # real numbers, not text
    summary = wb["By funding source"]
    last = [r for r in summary.iter_rows(min_row=2)][-1]
    assert last[0].value == "Total" and Decimal(repr(last[1].value)) == exp["appropriated"]


def test_command_line_xlsx(app, dataset, tmp_path):
    _fin, exp, _ = dataset
    out = tmp_path / "r.xlsx"
    result = app.test_cli_runner().invoke(args=["reports", "budget-execution", "--year", str(YEAR),
                                                "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    ws = load_workbook(out).worksheets[0]
    values = [r for r in ws.iter_rows(min_row=5) if r[0].value in ("Total", "合计")][0]
    assert Decimal(repr(values[6].value)) == exp["paid"]
    bad = app.test_cli_runner().invoke(args=["reports", "budget-execution", "--year", "1900", "--out", str(out)])
    assert bad.exit_code != 0 and "fiscal year" in bad.output.lower()
