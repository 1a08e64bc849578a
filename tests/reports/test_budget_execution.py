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
from procure.timeutil import to_local, utcnow

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
                contract = make.contract(project, officer=officer, amount=str(committed))
                bs.commit_funds(fin, project.allocations[0].id, committed, contract_id=contract.id)
                paid = (committed / 3).quantize(Decimal("0.01"))
                bs.pay(fin, project.allocations[0].id, paid, contract_id=contract.id,
                       payment_id=make.payment(contract, paid).id)
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
    from procure.reports.execution import budget_execution

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
    for col, exact, shown in re.findall(r'data-col="(\w+)" data-yuan="([^"]*)"[^>]*>([^<]*)<', part):
        out[col] = Decimal(exact)  # the exact yuan; the cell shows 万元 (the table's unit line)
        assert Decimal(shown.replace(",", "")) == (out[col] / 10000).quantize(Decimal("0.01"))
    return out


def test_page_and_xlsx_show_the_same_totals(client, dataset):
    fin, exp, _ = dataset
    login(client, fin.username)
    page = client.get(f"/reports/budget-execution?year={YEAR}").get_data(as_text=True)
    assert _money_cells(page, "<tfoot>") == exp
    assert "<svg" in page and "Paid" in page.split("<svg", 1)[1].split("</svg>", 1)[0]

    resp = client.get(f"/reports/budget-execution.xlsx?year={YEAR}")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(BytesIO(resp.data))
    ws = wb.worksheets[0]
    total_row = next(r for r in ws.iter_rows(min_row=5) if r[0].value == "Total")
    got = {c: Decimal(repr(total_row[3 + i].value)) for i, c in enumerate(COLS)}
    assert got == exp
    assert total_row[3].number_format == "#,##0.00"
    assert all(isinstance(total_row[3 + i].value, int | float) for i in range(5))  # real numbers, not text
    # the time in Beijing time, naive in the cell, the label saying so
    assert ws["A2"].value == "Generated (Beijing time)" and ws["A3"].value == "Unit: yuan"
    beijing_now = to_local(utcnow()).replace(tzinfo=None)
    assert abs((ws["B2"].value - beijing_now).total_seconds()) < 600
    summary = wb["By funding source"]
    assert summary["A1"].value == "Unit: yuan"
    rows = [r for r in summary.iter_rows(min_row=3)]
    last = next(r for r in rows if r[0].value == "Total")
    assert Decimal(repr(last[1].value)) == exp["appropriated"]
    assert [r[0].value for r in rows if r[0].value and ": " in r[0].value][:2] == [
        f"Preparing unit: {fin.department.name}", f"Prepared by: {fin.name} ＿＿＿＿＿＿＿＿"]  # the sign-off below


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
    assert bad.exit_code != 0 and "财政年度" in bad.output


def _pdf_totals(data: bytes) -> dict[str, Decimal]:
    from pypdf import PdfReader

    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages)
    line = next(ln for ln in text.splitlines() if ln.strip().startswith(("Total", "合计")))
    amounts = [Decimal(a.replace(",", "")) for a in re.findall(r"[\d,]+\.\d{2}", line)]
    return dict(zip(COLS, amounts[:5], strict=True))


def test_pdf_has_the_same_totals_a_cjk_font_and_a_header(app, dataset, tmp_path):
    import subprocess

    from pypdf import PdfReader

    from procure.reports.execution import budget_execution
    from procure.reports.services import execution_pdf

    fin, exp, _ = dataset
    with app.test_request_context():
        data = execution_pdf(budget_execution(YEAR), locale="zh_CN", prepared_by=fin)
    assert _pdf_totals(data) == exp
    reader = PdfReader(BytesIO(data))
    fonts = set()
    for page in reader.pages:
        for f in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(f.get_object()["/BaseFont"]))
    assert any("CJK" in f for f in fonts), fonts
    first = reader.pages[0].extract_text()
    assert str(YEAR) in first and "第 1 页" in first  # filter in the header, page numbers
    assert re.search(r"生成时间 \d{4}-\d{2}-\d{2} \d{2}:\d{2}", first)  # generation time in the header
    assert "一般公共预算" in first
    last = reader.pages[-1].extract_text()  # the sign-off below the table, as a printed report carries
    today = to_local(utcnow()).date()
    assert f"编制单位：{fin.department.name}" in last
    assert f"编制日期：{today.year}年{today.month}月{today.day}日" in last
    assert f"制表人：{fin.name}" in last and "审核人：" in last and "单位：元" in first
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    png = next(tmp_path.glob("p*.png"))
    assert png.stat().st_size > 5000  # a page with text and a chart, not blank
    # The command line renders the same report.
    out = tmp_path / "cli.pdf"
    result = app.test_cli_runner().invoke(args=["reports", "budget-execution", "--year", str(YEAR),
                                                "--format", "pdf", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _pdf_totals(out.read_bytes()) == exp


def test_pdf_job_through_the_page_and_who_may_download(client, dataset, make, db):
    fin, exp, _ = dataset
    login(client, fin.username)
    resp = client.post("/reports/budget-execution/pdf", data={"year": str(YEAR)})
    assert resp.status_code == 302 and "job=" in resp.location
    page = client.get(resp.location).get_data(as_text=True)  # eager in tests: already done
    assert 'id="pdf-job"' in page
    job_id = int(re.search(r"job=(\d+)", resp.location).group(1))
    status = client.get(f"/jobs/{job_id}", headers={"Accept": "application/json"}).json
    assert status["state"] == "done", status
    pdf = client.get(status["download_url"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert _pdf_totals(pdf.data) == exp
    from procure.documents.models import Document

    doc = db.session.get(Document, status["result_document_id"])
    import hashlib

    assert doc.sha256 == hashlib.sha256(pdf.data).hexdigest()
    # another finance officer may read the report; org users and evaluators may not
    for role, code in ((Role.FINANCE, 200), (Role.ORG, 403), (Role.EVALUATOR, 403), (Role.OFFICER, 403)):
        client.post("/logout")
        u = make.user(role)
        make.commit()
        login(client, u.username)
        assert client.get(status["download_url"]).status_code == code, role
    # bad year: a clear message, no job
    client.post("/logout")
    login(client, fin.username)
    bad = client.post("/reports/budget-execution/pdf", data={"year": "1800"}, follow_redirects=True)
    assert "fiscal year must be between" in bad.get_data(as_text=True)


def test_ids_too_large_for_a_column_are_refused_not_a_500(client, make, db):
    """A hand-edited link or form with a 20-digit id is ignored (page) or refused with a
    message (PDF job), never a database error."""
    fin = make.finance()
    fin.locale = "en"
    make.commit()
    login(client, fin.username)
    huge = "9" * 20
    for url in (f"/reports/budget-execution?year={YEAR}&source={huge}&department={huge}&job={huge}",
                f"/reports/budget-execution.xlsx?year={YEAR}&source={huge}",
                f"/reports/program-summary?category={huge}&job={huge}",
                "/reports/budget-execution?year=²&source=²",  # isdigit() but not int()
                "/budgets/?year=²"):
        assert client.get(url).status_code == 200, url
    resp = client.post("/reports/budget-execution/pdf", data={"year": str(YEAR), "source": huge},
                       follow_redirects=True)
    assert resp.status_code == 200
    assert "Choose from the list." in resp.get_data(as_text=True)


def _group_rows(html: str) -> dict[str, dict[str, Decimal]]:
    """The page's group rows by their anchor (source id-department id)."""
    body = html.split('id="execution"', 1)[1].split("<tfoot>", 1)[0]
    out = {}
    for part in body.split('<tr class="fw-semibold table-light">')[1:]:
        key = re.search(r'id="g-(\d+-\d+)"', part).group(1)
        out[key] = _money_cells(part, "</td>")
    return out


def test_page_shows_groups_their_project_lines_on_demand(client, dataset):
    """The page shows the groups only, their totals equal to the xlsx's group rows and
    to the sum of their project lines, which a plain link loads."""
    fin, exp, _ = dataset
    login(client, fin.username)
    page = client.get(f"/reports/budget-execution?year={YEAR}").get_data(as_text=True)
    tbody = page.split('id="execution"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert tbody.count("<tr") == 9 and "\u2003" not in tbody  # the groups only: no project rows until asked for
    groups = _group_rows(page)
    assert len(groups) == 9
    total = {c: sum((g[c] for g in groups.values()), Decimal(0)) for c in COLS}
    assert total == exp

    ws = load_workbook(BytesIO(client.get(f"/reports/budget-execution.xlsx?year={YEAR}").data)).worksheets[0]
    table = [r for r in ws.iter_rows(min_row=5, max_row=next(r[0].row for r in ws.iter_rows(min_row=5)
                                                              if r[0].value == "Total"))]
    xlsx_groups = [r for r in table if r[2].value in (None, "") and r[0].value != "Total"]
    assert sorted(tuple(Decimal(repr(r[3 + i].value)) for i, _c in enumerate(COLS)) for r in xlsx_groups) == \
        sorted(tuple(g[c] for c in COLS) for g in groups.values())
    assert sum(1 for r in ws.iter_rows(min_row=5) if r[2].value) == 21  # the xlsx keeps every project row

    for key, figures in groups.items():
        assert f"open={key}" in page and f'id="g-{key}"' in page  # a plain link to the group's lines
        opened = client.get(f"/reports/budget-execution?year={YEAR}&open={key}").get_data(as_text=True)
        body = opened.split('id="execution"', 1)[1].split("<tfoot>", 1)[0]
        rows = [r.split("</tr>", 1)[0] for r in body.split('<tr class="small project-line">')[1:]]
        assert len(rows) in (2, 3)  # two projects, and the cancelled one with nothing allocated
        lines = [{c: Decimal(t) for c, t in re.findall(r'data-col="(\w+)" data-yuan="([^"]+)"', r)} for r in rows]
        for c in ("allocated", "committed", "paid"):
            assert sum((x[c] for x in lines), Decimal(0)) == figures[c], (key, c)
        assert "Hide projects" in opened


def test_project_lines_page_correctly(app, client, dataset, monkeypatch):
    from procure.reports import execution
    from procure.reports.execution import budget_execution, project_lines

    fin, _exp, _ = dataset
    report = budget_execution(YEAR)
    every = [(p.project_id, p.allocated) for g in report.groups for p in report.projects[g.key]]
    seen = []
    first = project_lines(YEAR, per_page=4)
    assert first.total == len(every) == 21 and first.pages == 6
    for n in range(1, first.pages + 1):
        seen += [(p.project_id, p.allocated) for p in project_lines(YEAR, page=n, per_page=4).items]
    assert seen == every  # the report's order, each line once
    past = project_lines(YEAR, page=99, per_page=4)  # a stale link past the end: the last page
    assert past.page == 6 and [(p.project_id, p.allocated) for p in past.items] == every[20:]
    g = next(g for g in report.groups if len(report.projects[g.key]) == 3)
    only = project_lines(YEAR, *g.key)
    assert [p.project_id for p in only.items] == [p.project_id for p in report.projects[g.key]]

    # through the page: 2 a page, the pager's links lead to the next page and back
    monkeypatch.setattr(execution, "PER_PAGE", 2)
    login(client, fin.username)
    key = f"{g.key[0]}-{g.key[1]}"
    html = client.get(f"/reports/budget-execution?year={YEAR}&open={key}").get_data(as_text=True)
    assert html.count('class="small project-line"') == 2
    assert 'rel="next"' in html and 'rel="prev"' not in html
    nxt = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "page=2" in nxt and f"open={key}" in nxt
    html2 = client.get(nxt).get_data(as_text=True)
    assert html2.count('class="small project-line"') == len(report.projects[g.key]) - 2
    assert 'rel="prev"' in html2 and 'rel="next"' not in html2


def test_search_by_title_finds_a_project(client, dataset, db):
    from procure.projects.models import Project

    fin, _exp, _ = dataset
    project = db.session.query(Project).order_by(Project.id.desc()).first()
    project.title = "社区养老100%_服务"
    db.session.commit()
    login(client, fin.username)
    html = client.get(f"/reports/budget-execution?year={YEAR}&q=100%_").get_data(as_text=True)
    results = html.split('id="project-search"', 1)[1].split("</table>", 1)[0]
    assert results.count('class="small project-line"') == 1 and "社区养老100%_服务" in results
    none = client.get(f"/reports/budget-execution?year={YEAR}&q=nothing-like-this").get_data(as_text=True)
    assert "No projects match." in none.split('id="project-search"', 1)[1]


def test_only_finance_and_admin_see_the_page_and_its_project_lines(client, make, dataset):
    fin, _exp, _ = dataset
    for role, code in ((Role.FINANCE, 200), (Role.ADMIN, 200), (Role.OFFICER, 403), (Role.ORG, 403),
                       (Role.EVALUATOR, 403)):
        u = make.user(role)
        make.commit()
        client.post("/logout")
        login(client, u.username)
        for url in (f"/reports/budget-execution?year={YEAR}", f"/reports/budget-execution?year={YEAR}&open=1-1",
                    f"/reports/budget-execution?year={YEAR}&q=x"):
            assert client.get(url).status_code == code, (role, url)
