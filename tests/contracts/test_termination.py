"""Termination: reason and settlement; what is neither paid nor settled is de-committed
and returns to the allocation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from procure.budgets import services as bs
from procure.budgets.models import Allocation
from procure.contracts import services as cs
from procure.contracts.models import Contract, ContractState
from procure.errors import InvalidTransition, NotPermitted, ValidationError
from procure.payments.models import PaymentState

from .conftest import drafted, final_award
from .test_amendments import _active, _committed


def test_terminate_with_settlement_returns_the_rest(make, db, ca):
    award, contract = _active(make, db)
    alloc = db.session.scalar(select(Allocation).where(Allocation.project_id == award.project.id))
    bs.pay(make.finance(), alloc.id, "15000.00", contract_id=contract.id,
           payment_id=make.payment(contract, "15000.00", state=PaymentState.PAID).id)
    db.session.commit()
    for settlement, message in (("14999.99", "15,000.00"), ("60036.01", "60,036.00"), ("1e9", "")):
        with pytest.raises(ValidationError) as err:
            cs.terminate_contract(award.officer, db.session.get(Contract, contract.id), "服务无法继续", settlement)
        db.session.rollback()
        assert message in str(err.value.message)
    with pytest.raises(ValidationError):
        cs.terminate_contract(award.officer, db.session.get(Contract, contract.id), " ", "20000.00")
    db.session.rollback()
    with pytest.raises(NotPermitted):
        cs.terminate_contract(award.org_user, db.session.get(Contract, contract.id), "x", "20000.00")
    db.session.rollback()
    assert _committed(db, contract.id) == Decimal("60036.00")
    cs.terminate_contract(award.officer, db.session.get(Contract, contract.id), "服务对象搬迁，服务无法继续",
                          "20000.00")
    db.session.commit()
    contract = db.session.get(Contract, contract.id)
    assert contract.state == ContractState.TERMINATED and contract.settlement == Decimal("20000.00")
    assert _committed(db, contract.id) == Decimal("20000.00")
    db.session.refresh(alloc)
    assert (alloc.committed, alloc.paid) == (Decimal("20000.00"), Decimal("15000.00"))
    assert bs.reconcile() == []
    with pytest.raises(InvalidTransition):
        cs.terminate_contract(award.officer, contract, "再次", "20000.00")


def test_an_unsigned_contract_is_not_terminated(make, db, ca):
    award = final_award(make, db)
    contract = drafted(make, db, award)
    with pytest.raises(InvalidTransition):
        cs.terminate_contract(award.officer, contract, "理由", "0")


def test_terminate_over_http(make, db, ca, client):
    from ..conftest import login

    award, contract = _active(make, db)
    db.session.commit()
    login(client, award.officer.username)
    assert 'id="terminate"' in client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    r = client.post(f"/contracts/{contract.id}/terminate", data={"end-reason": "搬迁", "end-settlement": "99999999"})
    assert r.status_code == 400 and "60,036.00" in r.get_data(as_text=True)
    r = client.post(f"/contracts/{contract.id}/terminate", data={"end-reason": "搬迁", "end-settlement": "1000.00"})
    assert r.status_code == 302
    html = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert 'id="end-reason"' in html and 'id="terminate"' not in html
    assert _committed(db, contract.id) == Decimal("1000.00")
