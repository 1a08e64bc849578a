"""Signed contracts on the public portal: shown once both parties signed (published with
``published_at`` in the same commit), never before; the terms as signed without the
organization's contact person and phone or anything of the bid; linked from the portal's
navigation and the award notice, each version to its verification page; a constant
number of queries."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from procure.contracts import services as cs
from procure.contracts.models import Contract, ContractState, ContractVersion, VersionState
from procure.portal import queries
from procure.timeutil import utcnow
from tests.contracts.conftest import ca, drafted, final_award  # noqa: F401  (ca is a fixture)
from tests.querycount import page_statements

CONTACT, PHONE, EMAIL = "联系人王五", "13900001111", "wangwu@example.org"


@pytest.fixture()
def signed(make, db, ca):  # noqa: F811
    org = make.organization("重庆市渝中区同心养老服务中心", with_code=True, legal_representative="张三",
                            address="重庆市渝中区解放碑1号", contact_name=CONTACT, contact_phone=PHONE,
                            contact_email=EMAIL)
    award = final_award(make, db, price="60036.00", org=org)
    contract = drafted(make, db, award)
    return award, contract


def _sign_both(db, award, contract):
    cs.sign_contract(award.org_user, contract, make_password())
    cs.sign_contract(award.officer, contract, make_password())
    db.session.commit()
    return db.session.get(Contract, contract.id)


def make_password():
    from tests.factories import Factory

    return Factory.PASSWORD


def test_a_contract_appears_on_the_portal_when_both_parties_signed(app, client, db, signed):
    award, contract = signed
    # drafted, PDF ready, one signature: nothing public yet
    assert contract.published_at is None
    assert contract.number not in client.get("/portal/contracts/").get_data(as_text=True)
    assert client.get(f"/portal/contracts/{contract.id}").status_code == 404
    cs.sign_contract(award.org_user, contract, make_password())
    db.session.commit()
    assert client.get(f"/portal/contracts/{contract.id}").status_code == 404
    assert f"/portal/contracts/{contract.id}" not in client.get(f"/portal/calls/{award.tender.id}").get_data(
        as_text=True)

    cs.sign_contract(award.officer, db.session.get(Contract, contract.id), make_password())
    db.session.commit()
    contract = db.session.get(Contract, contract.id)
    assert contract.state == ContractState.ACTIVE
    assert contract.published_at is not None and contract.published_at == contract.activated_at

    listing = client.get("/portal/contracts/").get_data(as_text=True)
    assert contract.number in listing and award.org.name in listing and "60,036.00" in listing
    page = app.test_client().get(f"/portal/contracts/{contract.id}")  # a new visitor: no cookie set
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    html = page.get_data(as_text=True)
    version = contract.current_version
    for shown in (contract.number, award.org.name, award.org.credit_code, "张三", "重庆市渝中区解放碑1号",
                  "陆万零叁拾陆元整", version.content_sha256, f"/verify/{version.verify_code}",
                  "服务对象人数", "第1阶段服务"):
        assert shown in html, shown
    # the version's frozen terms hold the contact person; the portal leaves them out
    assert version.content["parties"]["organization"]["contact_name"] == CONTACT
    for personal in (CONTACT, PHONE, EMAIL, award.org_user.name, award.officer.name, award.org_user.email):
        assert personal not in html, personal
    assert "方案" not in html  # the bid's proposal (sealed content) is not published
    # linked from the award notice and the portal's navigation; the verification page answers
    call = client.get(f"/portal/calls/{award.tender.id}").get_data(as_text=True)
    assert f'href="/portal/contracts/{contract.id}"' in call
    assert 'href="/portal/contracts/"' in client.get("/portal/").get_data(as_text=True)
    assert client.get(f"/verify/{version.verify_code}").status_code == 200
    # the verification is a public page: the portal's layout (its header and sections, the
    # verification marked as the current one), not the signed-in application's menu
    for path in ("/verify", f"/verify/{version.verify_code}"):
        html = app.test_client().get(path).get_data(as_text=True)
        assert 'class="portal-head' in html and 'id="portal-nav-contracts"' in html, path
        assert 'class="nav-link active" href="/verify" id="portal-nav-verify"' in html, path
        assert 'id="verify-form"' in html and "navbar" not in html, path


def test_public_terms_keep_only_the_listed_keys():
    content = {"number": "HT-1", "parties": {"organization": {"name": "甲", "legal_representative": "张三",
                                                              "contact_name": CONTACT, "contact_phone": PHONE},
                                             "department": {"name": "民政局", "code": "D1", "secret": "x"}},
               "schedule": [{"position": 0, "share": "100", "amount": "1.00", "releases_on": "acceptance",
                             "milestone": None, "note": "x"}],
               "bid": {"proposal": "秘密"}, "targets": [{"indicator": "人数", "unit": "人", "target_value": "3",
                                                        "private": "x"}]}
    terms = queries.public_terms(content)
    flat = repr(terms)
    assert "张三" in flat and "民政局" in flat
    for hidden in (CONTACT, PHONE, "秘密", "secret", "private", "note"):
        assert hidden not in flat, hidden
    assert queries.public_terms(None)["schedule"] == []


def test_search_and_a_terminated_contract_stays_public(client, db, signed):
    award, contract = signed
    contract = _sign_both(db, award, contract)
    cs.terminate_contract(award.officer, contract, "服务机构主动申请解除合同", "0.00")
    db.session.commit()
    assert contract.number in client.get("/portal/contracts/?q=测试项目").get_data(as_text=True)
    assert "portal-empty" in client.get("/portal/contracts/?q=不存在的合同").get_data(as_text=True)
    html = client.get(f"/portal/contracts/{contract.id}").get_data(as_text=True)
    assert "服务机构主动申请解除合同" in html and "contract-terminated" in html


# --- the number of queries does not grow with the data -----------------------------------


def _published(make, db, n: int):
    """``n`` published contracts as rows (each with a signed version), no PDFs."""
    made = []
    for i in range(n):
        c = make.contract(amount="1234.56")
        c.published_at = c.activated_at = utcnow()
        for number in (1, 2):
            db.session.add(ContractVersion(
                contract_id=c.id, number=number, reason="原合同" if number == 1 else "变更", state=VersionState.SIGNED,
                amount=c.amount, period_start=date(2026, 3, 1), period_end=date(2026, 12, 31),
                content={"number": c.number, "amount": "1234.56", "schedule": [
                    {"position": 0, "share": "100", "amount": "1234.56", "releases_on": "acceptance",
                     "milestone": None}]},
                verify_code=f"v{c.id}n{number}x{i}", signed_at=utcnow(), created_by_id=c.created_by_id))
        made.append(c)
    make.commit()
    return made[0]


def test_query_counts_do_not_grow_with_the_data(app, make, db, client):
    first = _published(make, db, 1)
    urls = ["/portal/contracts/", "/portal/contracts/?q=测试", f"/portal/contracts/{first.id}",
            f"/portal/calls/{first.tender_id}"]
    small = {url: page_statements(app, client, url) for url in urls}
    _published(make, db, 12)
    large = {url: page_statements(app, client, url) for url in urls}
    assert small == large
    assert small["/portal/contracts/"] <= 2  # the count and the rows
    assert small[f"/portal/contracts/{first.id}"] <= 2  # the contract, its signed versions
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contract)) == 13
