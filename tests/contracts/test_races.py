"""Concurrent signings of two contracts that draw on one allocation never commit beyond
it (PostgreSQL, real threads): one is signed, the other refused with what remains."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from procure.auth.models import User
from procure.budgets import services as bs
from procure.budgets.models import Allocation
from procure.contracts import services as cs
from procure.contracts.models import Contract, ContractState

from ..factories import Factory
from ..threads import race
from .conftest import drafted, final_award

ROUNDS = 2


def test_two_signings_on_one_allocation(app, db, make, ca):
    overs = 0
    for _ in range(ROUNDS):
        first = final_award(make, db, price="50000.00", allocated="80000.00")
        second = final_award(make, db, price="50000.00", officer=first.officer, project=first.project)
        contracts = [drafted(make, db, a) for a in (first, second)]
        for award, contract in zip((first, second), contracts, strict=True):
            cs.sign_contract(award.org_user, contract, Factory.PASSWORD)
            db.session.commit()
        ids = [c.id for c in contracts]
        officer_id = first.officer.id

        def sign(d, cid, officer_id=officer_id):
            cs.sign_contract(d.session.get(User, officer_id), d.session.get(Contract, cid), Factory.PASSWORD)

        ok, refused = race(app, [lambda d, c=ids[0]: sign(d, c), lambda d, c=ids[1]: sign(d, c)])
        assert len(ok) == 1 and len(refused) == 1, (ok, refused)
        assert refused[0][1] == "BudgetExceeded" and "30,000.00" in refused[0][2], refused
        db.session.expire_all()
        alloc = db.session.scalar(select(Allocation).where(Allocation.project_id == first.project.id))
        overs += alloc.committed > alloc.allocated
        assert alloc.committed == Decimal("50000.00")
        states = sorted(db.session.get(Contract, i).state.value for i in ids)
        assert states == sorted([ContractState.ACTIVE.value, ContractState.PENDING_SIGNATURE.value])
    assert overs == 0 and bs.reconcile() == []


def test_both_parties_sign_at_once(app, db, make, ca):
    """The organization and the officer sign the same contract at the same moment: the
    signatures queue on the contract's lock, the second adds to the first one's PDF, and
    the contract ends in force with both signatures valid."""
    from procure import pades
    from procure.contracts.models import ContractVersion
    from procure.documents.services import read_document

    award = final_award(make, db, price="50000.00", allocated="80000.00")
    contract = drafted(make, db, award)
    cid, users = contract.id, (award.org_user.id, award.officer.id)

    def sign(d, uid):
        cs.sign_contract(d.session.get(User, uid), d.session.get(Contract, cid), Factory.PASSWORD)

    ok, refused = race(app, [lambda d, u=users[0]: sign(d, u), lambda d, u=users[1]: sign(d, u)])
    assert sorted(ok) == [0, 1] and refused == []
    db.session.expire_all()
    contract = db.session.get(Contract, cid)
    assert contract.state == ContractState.ACTIVE
    version = db.session.scalar(select(ContractVersion).where(ContractVersion.contract_id == cid))
    results = pades.validate_pdf(read_document(version.signed_document))
    assert len(results) == 2 and all(r.ok for r in results)
    assert bs.reconcile() == []
