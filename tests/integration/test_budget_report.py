"""The budget execution PDF in a real Celery worker through Redis: the page queues the
job, the worker renders and stores it, the JSON endpoint offers the download, and the
PDF's totals are the report's."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from procure.budgets import services as bs
from procure.roles import Role

from ..conftest import login
from .conftest import live_app, running_worker, wait_for

pytestmark = pytest.mark.integration


def test_worker_renders_the_budget_report(db, make, tmp_path):
    officer = make.user(Role.OFFICER)
    fin = make.finance()
    fin.locale = "en"
    appr = make.appropriation(officer.department, "123456.78", year=2026, source="lottery")
    project = make.approved_project(officer, appr, "23456.01", ceiling="30000.00")
    contract = make.contract(project, officer=officer, amount="20000.00")
    bs.commit_funds(fin, project.allocations[0].id, "20000.00", contract_id=contract.id)
    bs.pay(fin, project.allocations[0].id, "12345.67", contract_id=contract.id,
           payment_id=make.payment(contract, "12345.67").id)
    make.commit()
    app = live_app(mail_port=1)
    app.config["DOCUMENTS_DIR"] = str(tmp_path / "documents")
    client = app.test_client()
    login(client, fin.username)
    with running_worker(app):
        resp = client.post("/reports/budget-execution/pdf", data={"year": "2026"})
        assert resp.status_code == 302, resp.data[:300]
        job_id = int(re.search(r"job=(\d+)", resp.location).group(1))

        def final():
            body = client.get(f"/jobs/{job_id}", headers={"Accept": "application/json"}).json
            return body if body["is_final"] else None

        body = wait_for(final, timeout=60)
    assert body["state"] == "done", body
    assert body["total"] == 3 and body["done"] == 3
    pdf = client.get(body["download_url"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    total = next(ln for ln in text.splitlines() if ln.strip().startswith(("Total", "合计")))
    amounts = [Decimal(a.replace(",", "")) for a in re.findall(r"[\d,]+\.\d{2}", total)]
    assert amounts[:5] == [Decimal("123456.78"), Decimal("23456.01"), Decimal("20000.00"), Decimal("12345.67"),
                           Decimal("100000.77")]
    assert "福利彩票公益金" in text
