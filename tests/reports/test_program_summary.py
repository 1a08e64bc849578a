"""The program summary reproduces annual-reply figures from data entered through the
services, not typed into the report."""

from __future__ import annotations

from decimal import Decimal

from procure.organizations.models import OrgKind
from procure.projects import services as ps
from procure.reports.summary import program_summary
from procure.roles import Role

from ..conftest import login


def _reply_data(make):
    """Two years of a central program: three centrally funded projects with local
    matching, one locally funded project, one cancelled project; organizations."""
    officer = make.user(Role.OFFICER)
    elderly, disability = make.category("养老服务"), make.category("残疾人服务")
    served = {}
    for year, central_amt, local_amt in ((2017, "8000000.00", "4000000.00"), (2018, "9000000.00", "3000000.00")):
        central = make.appropriation(officer.department, central_amt, year=year, source="central")
        local = make.appropriation(officer.department, local_amt, year=year, source="matching")
        lottery = make.appropriation(officer.department, "1000000.00", year=year, source="lottery")
        for i, (cat, c_amt, m_amt, people) in enumerate([(elderly, "2001500.00", "1081500.00", 20000),
                                                          (disability, "1500000.00", "0.00", 18576)]):
            p = make.project(officer, year=year, category=cat, ceiling="5000000.00", served=people)
            ps.submit_project(officer, p)
            lines = [(central.id, c_amt)] + ([(local.id, m_amt)] if m_amt != "0.00" else [])
            ps.approve_project(make.finance(), p, lines)
            served[(year, i)] = people
        local_only = make.approved_project(officer, lottery, "250000.00", year=year, category=elderly, served=999,
                                           ceiling="300000.00")
        assert local_only.state.value == "approved"
        gone = make.approved_project(officer, central, "100000.00", year=year, category=elderly, served=5)
        ps.cancel_project(officer, gone, "撤销")
    for kind, n in ((OrgKind.SOCIAL_GROUP, 3), (OrgKind.SERVICE_ORG, 4), (OrgKind.FOUNDATION, 1), (OrgKind.FILED, 2)):
        for _ in range(n):
            make.organization(kind=kind)
    make.commit()
    return served


def test_summary_figures(make, db):
    served = _reply_data(make)
    s = program_summary(2012, 2018)
    assert s.central_projects == 4
    assert s.central_funds == Decimal("7003000.00")
    assert s.matching_funds == Decimal("2163000.00")
    assert s.beneficiaries_served == sum(served.values()) == 77152
    assert s.organizations == {"social_group": 3, "service_org": 4, "foundation": 1, "filed": 2}
    assert s.registered_organizations == 8
    by_source = s.funds_by_source()
    assert by_source["lottery"] == Decimal("500000.00") and by_source["central"] == Decimal("7003000.00")
    elderly_2017 = next(r for r in s.rows if r.year == 2017 and r.category == "养老服务")
    assert elderly_2017.projects == 2 and elderly_2017.served == 20999
    # targets: each factory project targets 300 beneficiaries; 3 funded projects per year
    assert s.beneficiaries_targeted == Decimal("1800")
    assert program_summary(2019, 2020).central_projects == 0


def test_summary_page_and_xlsx(client, make, db):
    _reply_data(make)
    fin = make.finance()
    fin.locale = "en"
    make.commit()
    login(client, fin.username)
    page = client.get("/reports/program-summary?from=2012&to=2018").get_data(as_text=True)
    assert ("2012–2018: 4 centrally funded projects, 7.00 million yuan of central funds, 2.16 million yuan of "
            "local and social matching funds, 77,152 beneficiaries; 8 registered organizations: 3 social groups, "
            "4 social service organizations, 1 foundations.") in page
    resp = client.get("/reports/program-summary.xlsx?from=2012&to=2018")
    from io import BytesIO

    from openpyxl import load_workbook

    wb = load_workbook(BytesIO(resp.data))
    head = {r[0].value: r[1].value for r in wb.worksheets[1].iter_rows() if r[0].value}
    assert Decimal(repr(head["Central funds"])) == Decimal("7003000.00")
    assert head["Beneficiaries served"] == 77152
    for role in (Role.ORG, Role.EVALUATOR, Role.OFFICER):
        client.post("/logout")
        u = make.user(role)
        make.commit()
        login(client, u.username)
        assert client.get("/reports/program-summary").status_code == 403
        assert client.get("/reports/program-summary.xlsx").status_code == 403


def test_summary_pdf_job_and_command_line(app, client, make, db, tmp_path):
    import re
    from io import BytesIO

    from pypdf import PdfReader

    _reply_data(make)
    fin = make.finance()
    fin.locale = "en"
    make.commit()
    login(client, fin.username)
    resp = client.post("/reports/program-summary/pdf", data={"from": "2012", "to": "2018"})
    assert resp.status_code == 302
    job_id = int(re.search(r"job=(\d+)", resp.location).group(1))
    assert 'id="pdf-job"' in client.get(resp.location).get_data(as_text=True)
    status = client.get(f"/jobs/{job_id}", headers={"Accept": "application/json"}).json
    assert status["state"] == "done", status
    data = client.get(status["download_url"]).data
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages)
    assert "7.00 million yuan of central funds" in text and "77,152" in text
    assert "7,003,000.00" in text  # the central funds total row, to the fen
    bad = client.post("/reports/program-summary/pdf", data={"from": "2018", "to": "2012"}, follow_redirects=True)
    assert "comes after" in bad.get_data(as_text=True)
    out = tmp_path / "s.pdf"
    result = app.test_cli_runner().invoke(args=["reports", "program-summary", "--from", "2012", "--to", "2018",
                                                "--format", "pdf", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"%PDF"


def test_registered_organizations_exclude_deregistered_and_later_ones(app, make, db):
    from datetime import date

    from procure.organizations.models import OrgKind, RegStatus
    from procure.reports.summary import program_summary

    make.organization(kind=OrgKind.SOCIAL_GROUP, registration_date=date(2015, 3, 1))
    make.organization(kind=OrgKind.SOCIAL_GROUP, registration_date=date(2015, 3, 1), status=RegStatus.DEREGISTERED)
    make.organization(kind=OrgKind.SOCIAL_GROUP, registration_date=date(2019, 1, 2))  # after the period
    make.organization(kind=OrgKind.FOUNDATION, registration_date=date(2018, 12, 31))
    summary = program_summary(2012, 2018)
    assert summary.organizations["social_group"] == 1
    assert summary.organizations["foundation"] == 1
