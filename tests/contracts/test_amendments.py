"""Amendments (变更): a new version with a reason, supplements capped at 10% of the original
amount in total, re-signed by both parties, the commitment following; old versions stay
readable and verifiable."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from procure.budgets import services as bs
from procure.budgets.models import Allocation, ContractFunding
from procure.contracts import services as cs
from procure.contracts import verification
from procure.contracts.models import Contract, ContractState, ContractVersion, Installment, VersionState
from procure.documents.services import read_document
from procure.errors import Conflict, InvalidTransition, NotPermitted, ValidationError

from ..factories import Factory
from .conftest import drafted, final_award, render, schedule


def _active(make, db, price="60036.00"):
    award = final_award(make, db, price=price, allocated="80000.00")
    contract = drafted(make, db, award)
    cs.sign_contract(award.org_user, contract, Factory.PASSWORD)
    db.session.commit()
    cs.sign_contract(award.officer, db.session.get(Contract, contract.id), Factory.PASSWORD)
    db.session.commit()
    return award, db.session.get(Contract, contract.id)


def _amend(amount, reason="增加服务频次", end=date(2026, 12, 31), shares=("50", "50")):
    return cs.AmendData(period_start=date(2026, 3, 1), period_end=end,
                        service_content="助餐、探访及增加的夜间巡访服务。",
                        installments=schedule(date(2026, 3, 1), *shares), reason=reason, amount=amount)


def _committed(db, contract_id):
    return db.session.scalar(select(func.coalesce(func.sum(ContractFunding.committed), 0))
                             .where(ContractFunding.contract_id == contract_id))


def test_supplement_capped_at_ten_percent_then_re_signed(make, db, ca):
    award, contract = _active(make, db)
    old = contract.current_version
    old_signed = read_document(old.signed_document)
    before = db.session.scalar(select(func.count()).select_from(ContractVersion))
    with pytest.raises(ValidationError) as err:
        cs.amend_contract(award.officer, contract, _amend("66039.61"))
    db.session.rollback()
    assert "66,039.60" in str(err.value.message) and "第四十九条" in str(err.value.message)
    assert db.session.scalar(select(func.count()).select_from(ContractVersion)) == before
    with pytest.raises(ValidationError):
        cs.amend_contract(award.officer, db.session.get(Contract, contract.id), _amend("66039.60", reason=" "))
    db.session.rollback()
    with pytest.raises(NotPermitted):
        cs.amend_contract(award.org_user, db.session.get(Contract, contract.id), _amend("66039.60"))
    db.session.rollback()

    version = cs.amend_contract(award.officer, db.session.get(Contract, contract.id), _amend("66039.60"))
    db.session.commit()
    version = render(db.session.get(Contract, contract.id))
    contract = db.session.get(Contract, contract.id)
    assert version.number == 2 and version.state == VersionState.READY and contract.state == ContractState.ACTIVE
    assert [i.amount for i in contract.installments] == [Decimal("33019.80"), Decimal("33019.80")]
    # a second amendment waits for this one
    with pytest.raises(Conflict):
        cs.amend_contract(award.officer, contract, _amend("60036.00"))
    db.session.rollback()
    # until it is signed, the old signed PDF is still the current signed version
    assert verification.verify_pdf(old_signed).best.is_current_signed
    assert _committed(db, contract.id) == Decimal("60036.00")
    cs.sign_contract(award.org_user, db.session.get(Contract, contract.id), Factory.PASSWORD)
    db.session.commit()
    cs.sign_contract(award.officer, db.session.get(Contract, contract.id), Factory.PASSWORD)
    db.session.commit()
    assert _committed(db, contract.id) == Decimal("66039.60")
    version = db.session.get(ContractVersion, version.id)
    assert version.state == VersionState.SIGNED
    new_signed = read_document(version.signed_document)
    assert verification.verify_pdf(new_signed).best.is_current_signed
    stale = verification.verify_pdf(old_signed).best
    assert stale.version.number == 1 and not stale.is_current_signed
    assert stale.current_signed_version.number == 2
    # the old version's PDF keeps its own hash
    old = db.session.get(ContractVersion, old.id)
    assert old.state == VersionState.SIGNED and read_document(old.signed_document) == old_signed
    assert bs.reconcile() == []


def test_lower_amount_decommits(make, db, ca):
    award, contract = _active(make, db)
    cs.amend_contract(award.officer, contract, _amend("50000.00", reason="服务范围缩小"))
    db.session.commit()
    render(db.session.get(Contract, contract.id))
    for user in (award.officer, award.org_user):
        cs.sign_contract(user, db.session.get(Contract, contract.id), Factory.PASSWORD)
        db.session.commit()
    assert _committed(db, contract.id) == Decimal("50000.00")
    alloc = db.session.scalar(select(Allocation).where(Allocation.project_id == award.project.id))
    assert alloc.committed == Decimal("50000.00")
    assert bs.reconcile() == []


def test_only_an_active_contract_is_amended(make, db, ca):
    award = final_award(make, db)
    contract = drafted(make, db, award)
    with pytest.raises(InvalidTransition):
        cs.amend_contract(award.officer, contract, _amend("60036.00"))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Installment)) == 3


def test_amend_over_http(make, db, ca, client):
    from ..conftest import login

    award, contract = _active(make, db)
    db.session.commit()
    login(client, award.officer.username)
    html = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert 'id="amend"' in html
    page = client.get(f"/contracts/{contract.id}/amend")
    assert page.status_code == 200 and "60036.00" in page.get_data(as_text=True)
    form = {"reason": "增加夜间巡访", "amount": "70000.00", "service_content": "助餐服务",
            "period_start": "2026-03-01", "period_end": "2026-12-31",
            "installments-0-share": "50", "installments-0-releases_on": "milestone",
            "installments-0-title": "第一阶段", "installments-0-due_on": "2026-06-30",
            "installments-0-deliverables": "服务记录", "installments-1-share": "50",
            "installments-1-releases_on": "acceptance"}
    r = client.post(f"/contracts/{contract.id}/amend", data=form)
    assert r.status_code == 400 and "66,039.60" in r.get_data(as_text=True)
    form["amount"] = "66000.00"
    r = client.post(f"/contracts/{contract.id}/amend", data=form)
    assert r.status_code == 302
    html = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert 'id="sign"' in html and 'data-version="2"' in html and 'data-version="1"' in html
    client.post("/logout")
    login(client, award.org_user.username)
    assert client.get(f"/contracts/{contract.id}/amend").status_code == 403
