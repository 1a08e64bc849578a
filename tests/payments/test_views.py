"""Payment pages with the test client: who may open each route (table-driven: another
organization, another department's officer and an evaluator never read this
organization's payments), the chain walked through the pages, the notice PDF's text."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from procure.money import rmb_upper
from procure.payments.models import Payment
from procure.roles import Role
from procure.timeutil import to_local, utcnow

from ..conftest import login
from .conftest import world

OWN, OTHER_ORG, OTHER_OFFICER, OFFICER, FINANCE, ADMIN, EVALUATOR = (
    "own", "other_org", "other_officer", "officer", "finance", "admin", "evaluator")
WHO = [OWN, OTHER_ORG, OTHER_OFFICER, OFFICER, FINANCE, ADMIN, EVALUATOR]
SEE_ONE = {OWN, OFFICER, FINANCE, ADMIN}

GETS = {
    "/payments/": {OWN, OTHER_ORG, OTHER_OFFICER, OFFICER, FINANCE, ADMIN},
    "/payments/?tab=all": {OWN, OTHER_ORG, OTHER_OFFICER, OFFICER, FINANCE, ADMIN},
    "/payments/{payment}": SEE_ONE,
    "/contracts/{contract}/payments": SEE_ONE,
    "/documents/{notice}": SEE_ONE,
}
#: POSTs nobody but the right person may make; here everyone but them is refused 403
#: (the right ones are exercised below).
POSTS = {
    "/payments/{payment}/confirm": {OTHER_ORG, OTHER_OFFICER, OWN, EVALUATOR, FINANCE},
    "/payments/{payment}/approve": {OTHER_ORG, OTHER_OFFICER, OWN, EVALUATOR},
    "/payments/{payment}/reject": {OTHER_ORG, OTHER_OFFICER, OWN, EVALUATOR},
    "/payments/{payment}/record": {OTHER_ORG, OTHER_OFFICER, OWN, EVALUATOR},
    "/contracts/{contract}/payments/request/{installment}": {OTHER_ORG, OTHER_OFFICER, OWN, EVALUATOR},
}


@pytest.fixture(scope="module")
def site(app):
    """One paid payment (with its notice) and one requested, built once for the module's
    read-only checks (committed; the tables are emptied after the module)."""
    from procure.extensions import db as _db
    from procure.payments import services as ps

    from ..conftest import truncate_all
    from ..factories import Factory

    with app.app_context():
        make = Factory(_db)
        ns = world(make, _db, approved=(0, 1))
        p0, p1 = (_db.session.scalar(select(Payment).where(Payment.installment_id == i.id))
                  for i in ns.contract.installments[:2])
        ps.confirm_payment(ns.officer, p0)
        ps.approve_payment(ns.fin1, p0)
        ps.record_paid(ns.fin2, p0, "PZ-VIEW-1", to_local(utcnow()).date())
        _db.session.commit()  # eager: the notice is rendered
        p0 = _db.session.get(Payment, p0.id)
        other_org = make.organization()
        users = {OWN: ns.org_user, OTHER_ORG: make.user(Role.ORG, organization=other_org),
                 OTHER_OFFICER: make.user(Role.OFFICER), OFFICER: ns.officer, FINANCE: ns.fin3,
                 ADMIN: make.admin(), EVALUATOR: make.user(Role.EVALUATOR)}
        make.commit()
        data = {"users": {k: u.username for k, u in users.items()},
                "ids": {"payment": p1.id, "paid": p0.id, "contract": ns.contract.id,
                        "installment": ns.contract.installments[2].id, "notice": p0.notice_document_id,
                        "project": ns.contract.project_id},
                "number": ns.contract.number, "amount": p0.amount}
        _db.session.remove()
    yield data
    with app.app_context():
        truncate_all(_db.engine)


@pytest.fixture()
def web(app, site):
    from procure.extensions import limiter

    from ..conftest import IsolatedClient

    limiter.reset()
    app.test_client_class = IsolatedClient
    return app.test_client()


CASES = [(path, who) for path in GETS for who in WHO]


@pytest.mark.parametrize(("path", "who"), CASES, ids=[f"{w}:{p}" for p, w in CASES])
def test_who_reads_what(web, site, path, who):
    assert login(web, site["users"][who]).status_code == 302
    ids = dict(site["ids"])
    resp = web.get(path.format(**ids) if "{notice}" not in path else _download(web, ids["notice"]))
    expected = 200 if who in GETS[path] else 403
    assert resp.status_code == expected, (who, path, resp.status_code)
    if path.startswith("/payments/") and resp.status_code == 200 and who in {OTHER_ORG, OTHER_OFFICER}:
        assert site["number"] not in resp.get_data(as_text=True)  # listed for nobody else


def _download(web, doc_id) -> str:
    from flask import url_for

    with web.application.test_request_context():
        return url_for("documents.download", doc_id=doc_id)


POST_CASES = [(path, who) for path in POSTS for who in sorted(POSTS[path])]


@pytest.mark.parametrize(("path", "who"), POST_CASES, ids=[f"{w}:{p}" for p, w in POST_CASES])
def test_posts_refused(web, site, path, who):
    assert login(web, site["users"][who]).status_code == 302
    resp = web.post(path.format(**site["ids"]), data={"reason": "x", "reject-reason": "x", "reject-confirm": "y",
                                                      "record-voucher_number": "PZ-X", "record-confirm": "y"})
    assert resp.status_code == 403, (who, path, resp.status_code)


def test_anonymous_is_sent_to_sign_in(web, site):
    for path in GETS:
        if "{notice}" in path:
            continue
        resp = web.get(path.format(**site["ids"]))
        assert resp.status_code == 302 and "/login" in resp.location


def test_list_totals_and_notice_text(web, site):
    login(web, site["users"][FINANCE])
    page = web.get("/payments/?tab=paid").get_data(as_text=True)
    assert "单位：元" in page and site["number"] in page
    total = page[page.index('id="payments-total"'):]
    assert "18,000.00" in total[: total.index("</tr>")]
    detail = web.get(f"/payments/{site['ids']['paid']}").get_data(as_text=True)
    assert "PZ-VIEW-1" in detail and "下载拨付通知" in detail
    web.post("/logout")
    login(web, site["users"][OWN])
    resp = web.get(_download(web, site["ids"]["notice"]))
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(resp.data)).pages).replace(" ", "")
    assert rmb_upper(site["amount"]) == "壹万捌仟元整"
    assert "壹万捌仟元整" in text and site["number"] in text and "PZ-VIEW-1" in text


def test_dashboard_work_lists(web, site):
    login(web, site["users"][OFFICER])
    page = web.get("/dashboard").get_data(as_text=True)
    assert "待确认的拨付" in page and f"/payments/{site['ids']['payment']}" in page
    web.post("/logout")
    login(web, site["users"][OTHER_OFFICER])
    page = web.get("/dashboard").get_data(as_text=True)
    assert f"/payments/{site['ids']['payment']}" not in page
    web.post("/logout")
    login(web, site["users"][FINANCE])
    page = web.get("/dashboard").get_data(as_text=True)
    assert "目前没有待您审批的拨付" in page


def test_project_page_lists_the_payments(web, site):
    login(web, site["users"][OFFICER])
    page = web.get(f"/projects/{site['ids']['project']}").get_data(as_text=True)
    part = page[page.index('id="project-payments"'):]
    assert f"/payments/{site['ids']['paid']}" in part and "18,000.00" in part
