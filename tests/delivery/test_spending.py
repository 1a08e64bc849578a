"""Spending against the approved breakdown (issue 11 item 2): one function's figures, the
variance in Decimal, the administrative-cost cap, the same totals in the page, the xlsx
and the worker-rendered PDF, and who may see what."""

from __future__ import annotations

import re
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from procure.delivery import spending as sp
from procure.delivery.models import ReportState
from procure.money import format_money
from procure.roles import Role

from ..conftest import login
from .spending_data import budget_lines, report

R = ReportState
#: An amount as pages and PDFs print it: ¥1,234.56 or -¥1,234.56.
AMOUNT = r"-?¥?[\d,]+\.\d{2}"
BREAKDOWN = (("personnel", "36000.00"), ("activities", "15000.00"), ("materials", "6000.00"), ("admin", "3000.00"))


@pytest.fixture()
def world(make, db):
    aw = make.active_contract()
    c = aw.contract
    budget_lines(db, c, BREAKDOWN)
    m1, m2 = c.milestones[0], c.milestones[1]
    # approved (confirmed): admin 6,500.00 over the 10% cap of 60,000 (6,000.00)
    report(db, c, m1, R.APPROVED, [("personnel", "10000.00"), ("admin", "6500.00"), ("activities", "2000.10")],
           aw.org_user)
    # submitted (pending review); a draft would not count at all
    report(db, c, m2, R.SUBMITTED, [("materials", "1000.00"), ("personnel", "0.05")], aw.org_user)
    make.commit()
    return aw


def test_figures_variance_in_decimal_and_the_admin_cap(world, db):
    rep = sp.project_spending(world.project)
    (c,) = rep.contracts
    lines = {ln.category: ln for ln in c.lines}
    assert c.has_breakdown
    assert lines["personnel"].approved == Decimal("36000.00")
    assert lines["personnel"].confirmed == Decimal("10000.00") and lines["personnel"].pending == Decimal("0.05")
    assert lines["activities"].variance == Decimal("-12999.90")
    assert isinstance(lines["activities"].variance, Decimal)
    assert lines["activities"].variance_pct == Decimal("-86.7")  # −12,999.90 ÷ 15,000 = −86.666 %
    assert lines["admin"].variance == Decimal("3500.00") and lines["admin"].variance_pct == Decimal("116.7")
    assert lines["other"].approved == 0 and lines["other"].variance_pct is None
    t = rep.total
    assert (t.approved, t.confirmed, t.pending, t.variance) == (
        Decimal("60000.00"), Decimal("18500.10"), Decimal("1000.05"), Decimal("-41499.90"))
    assert c.admin_cap == Decimal("6000.00") and c.admin_over_cap and not c.admin_over_cap_if_approved


def test_admin_cap_follows_the_policy_and_pending_only_warns(world, db, app, monkeypatch):
    from procure import policy

    real = policy.value
    monkeypatch.setattr(policy, "value", lambda k: Decimal("0.15") if k == "budget.max_admin_cost_share" else real(k))
    (c,) = sp.project_spending(world.project).contracts
    assert c.admin_cap == Decimal("9000.00") and not c.admin_over_cap
    monkeypatch.setattr(policy, "value", lambda k: Decimal("0.11") if k == "budget.max_admin_cost_share" else real(k))
    (c,) = sp.project_spending(world.project).contracts
    assert c.admin_cap == Decimal("6600.00") and not c.admin_over_cap and not c.admin_over_cap_if_approved
    from procure.delivery.models import MilestoneReport, SpendingLine

    pending = db.session.query(MilestoneReport).filter_by(state=R.SUBMITTED).one()
    db.session.add(SpendingLine(report_id=pending.id, contract_id=world.contract.id, position=5, category="admin",
                                amount=Decimal("200.00")))
    db.session.flush()
    (c,) = sp.project_spending(world.project).contracts
    assert not c.admin_over_cap and c.admin_over_cap_if_approved  # 6,500 + 200 pending > 6,600


def test_no_approved_breakdown(make, db):
    aw = make.active_contract()
    budget_lines(db, aw.contract, [])
    make.commit()
    rep = sp.project_spending(aw.project)
    assert not rep.contracts[0].has_breakdown


def _xlsx_total(data: bytes) -> list[Decimal]:
    from openpyxl import load_workbook

    ws = load_workbook(BytesIO(data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert ["单位：元"] == [v for v in rows[3] if v is not None]
    assert "北京时间" in rows[2][1]
    total = next(r for r in rows if r[0] in ("项目合计", "Project total"))
    return [Decimal(repr(v)) if not isinstance(v, Decimal) else v for v in total[2:6]]


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages)


def test_the_same_totals_in_the_page_the_xlsx_and_the_pdf(world, client, db):
    """One test: the page, the xlsx and the worker-rendered PDF show the same totals."""
    rep = sp.project_spending(world.project)
    t = rep.total
    expected = [t.approved, t.confirmed, t.pending, t.variance]
    login(client, world.officer.username)
    html = client.get(f"/reports/project-spending/{world.project.id}").get_data(as_text=True)
    block = html[html.index('id="project-total"'):]
    block = block[:block.index("</table>")]
    page = [Decimal(a.replace(",", "").replace("¥", "")) for a in re.findall(AMOUNT, block)]
    assert page == expected
    assert "<svg" in html and "单位：元" in html

    xl = client.get(f"/reports/project-spending/{world.project.id}.xlsx")
    assert xl.status_code == 200
    assert [v.quantize(Decimal("0.01")) for v in _xlsx_total(xl.data)] == expected

    resp = client.post(f"/reports/project-spending/{world.project.id}/pdf")
    assert resp.status_code == 302 and "job=" in resp.location
    assert 'id="pdf-job"' in client.get(resp.location).get_data(as_text=True)  # eager in tests: done
    job_id = int(re.search(r"job=(\d+)", resp.location).group(1))
    status = client.get(f"/jobs/{job_id}", headers={"Accept": "application/json"}).json
    assert status["state"] == "done", status
    pdf = client.get(status["download_url"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = _pdf_text(pdf.data).replace("\n", " ")
    at = max(text.rfind("项目合计"), text.rfind("Project total"))
    assert at > 0
    amounts = [Decimal(a.replace(",", "").replace("¥", "")) for a in re.findall(AMOUNT, text[at:])]
    assert amounts[:4] == expected
    assert format_money(t.confirmed) in html
    assert "单位：元" in text
    officer = world.officer  # who asked for it prepared it, in the name of the officer's department
    assert f"编制单位：{officer.department.name}" in text and f"制表人：{officer.name}" in text
    assert re.search(r"编制日期：\d{4}年\d{1,2}月\d{1,2}日", text) and "审核人：" in text
    sheet = [v for row in load_workbook(BytesIO(xl.data)).active.iter_rows(values_only=True) for v in row if v]
    assert f"编制单位：{officer.department.name}" in sheet and "审核人：＿＿＿＿＿＿＿＿" in sheet


def test_admin_cap_flag_on_the_page_and_the_list(world, client, make, db):
    fin = make.finance()
    make.commit()
    login(client, fin.username)
    html = client.get(f"/reports/project-spending/{world.project.id}").get_data(as_text=True)
    assert f'id="admin-cap-{world.contract.id}"' in html and "flag" in html
    lst = client.get("/spending/?year=2026").get_data(as_text=True)
    assert world.project.title in lst and 'id="spending-total"' in lst and "badge text-bg-danger" in lst


def test_access_organizations_see_only_their_own(world, client, make, db):
    other = make.active_contract()
    make.commit()
    pid = world.project.id
    # the organization of the contract: its own project's report, not another's, not the list
    login(client, world.org_user.username)
    assert client.get(f"/reports/project-spending/{pid}").status_code == 200
    assert client.get(f"/reports/project-spending/{other.project.id}").status_code == 403
    assert client.get(f"/reports/project-spending/{other.project.id}.xlsx").status_code == 403
    assert client.post(f"/reports/project-spending/{other.project.id}/pdf").status_code == 403
    assert client.get("/spending/").status_code == 403
    client.post("/logout")
    # an officer of another department: neither the report nor the project in the list
    stranger = make.user(Role.OFFICER)
    evaluator = make.user(Role.EVALUATOR)
    make.commit()
    login(client, stranger.username)
    assert client.get(f"/reports/project-spending/{pid}").status_code == 403
    assert world.project.title not in client.get("/spending/").get_data(as_text=True)
    client.post("/logout")
    login(client, evaluator.username)
    assert client.get(f"/reports/project-spending/{pid}").status_code == 403
    assert client.get("/spending/").status_code == 403
    client.post("/logout")
    assert client.get(f"/reports/project-spending/{pid}").status_code == 302


def test_list_filters_and_totals(world, client, make, db):
    other = make.active_contract(price="50000.00")
    budget_lines(db, other.contract, (("personnel", "50000.00"),))
    make.commit()
    fin = make.finance()
    make.commit()
    page, total = sp.spending_list(fin, 2026)
    assert page.total == 2
    assert total.approved == Decimal("110000.00") and total.confirmed == Decimal("18500.10")
    page, total = sp.spending_list(fin, 2026, world.project.department_id)
    assert [r.project_id for r in page.items] == [world.project.id]
    page, total = sp.spending_list(fin, 2025)
    assert page.items == [] and total.approved == 0
