"""Concurrent signings of two contracts that draw on one allocation never commit beyond
it (PostgreSQL, real threads): one is signed, the other refused with what remains. The
signatures are made by the worker's job (``add_signature``), run in threads as two pool
processes run them; two clicks at once record one job."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from procure.auth.models import User
from procure.budgets import services as bs
from procure.budgets.models import Allocation
from procure.contracts import services as cs
from procure.contracts.models import Contract, ContractState
from procure.errors import DomainError
from procure.jobs.models import Job
from procure.jobs.services import run_job

from ..factories import Factory
from ..threads import race
from .conftest import drafted, final_award

ROUNDS = 2


def work(d, job_id: int) -> None:
    """Run a signing job as the worker does; its refusal raised as the race counts it."""
    if run_job(job_id, cs.add_signature) != "done":
        raise DomainError(d.session.get(Job, job_id).message)


def test_two_signings_on_one_allocation(app, db, make, ca, held):
    overs = 0
    for _ in range(ROUNDS):
        first = final_award(make, db, price="50000.00", allocated="80000.00")
        second = final_award(make, db, price="50000.00", officer=first.officer, project=first.project)
        contracts = [drafted(make, db, a) for a in (first, second)]
        for award, contract in zip((first, second), contracts, strict=True):
            cs.sign_contract(award.org_user, contract, Factory.PASSWORD)
            db.session.commit()
        ids = [c.id for c in contracts]
        jobs = [cs.request_signature(first.officer, db.session.get(Contract, cid), Factory.PASSWORD).id
                for cid in ids]
        db.session.commit()

        ok, refused = race(app, [lambda d, j=jobs[0]: work(d, j), lambda d, j=jobs[1]: work(d, j)])
        assert len(ok) == 1 and len(refused) == 1, (ok, refused)
        assert "30,000.00" in refused[0][2], refused
        db.session.expire_all()
        alloc = db.session.scalar(select(Allocation).where(Allocation.project_id == first.project.id))
        overs += alloc.committed > alloc.allocated
        assert alloc.committed == Decimal("50000.00")
        states = sorted(db.session.get(Contract, i).state.value for i in ids)
        assert states == sorted([ContractState.ACTIVE.value, ContractState.PENDING_SIGNATURE.value])
    assert overs == 0 and bs.reconcile() == []


def test_both_parties_sign_at_once(app, db, make, ca, held):
    """The organization and the officer sign the same contract at the same moment: the
    signatures queue on the contract's lock, the second adds to the first one's PDF, and
    the contract ends in force with both signatures valid."""
    from procure import pades
    from procure.contracts.models import ContractVersion
    from procure.documents.services import read_document

    award = final_award(make, db, price="50000.00", allocated="80000.00")
    contract = drafted(make, db, award)
    cid = contract.id
    jobs = [cs.request_signature(u, db.session.get(Contract, cid), Factory.PASSWORD).id
            for u in (award.org_user, award.officer)]
    db.session.commit()

    ok, refused = race(app, [lambda d, j=jobs[0]: work(d, j), lambda d, j=jobs[1]: work(d, j)])
    assert sorted(ok) == [0, 1] and refused == []
    db.session.expire_all()
    contract = db.session.get(Contract, cid)
    assert contract.state == ContractState.ACTIVE
    version = db.session.scalar(select(ContractVersion).where(ContractVersion.contract_id == cid))
    results = pades.validate_pdf(read_document(version.signed_document))
    assert len(results) == 2 and all(r.ok for r in results)
    assert bs.reconcile() == []


def test_two_clicks_at_once_record_one_signing(app, db, make, ca, held):
    """The same signer's two requests at the same moment: they queue on the contract's
    lock; the second finds the first one's job and is refused."""
    award = final_award(make, db, price="50000.00", allocated="80000.00")
    contract = drafted(make, db, award)
    cid, uid = contract.id, award.org_user.id

    def click(d):
        cs.request_signature(d.session.get(User, uid), d.session.get(Contract, cid), Factory.PASSWORD, 1)

    ok, refused = race(app, [click, click])
    assert len(ok) == 1 and len(refused) == 1 and refused[0][1] == "Conflict", (ok, refused)
    db.session.expire_all()
    assert len(cs.signing_jobs(db.session.get(Contract, cid).current_version)) == 1
