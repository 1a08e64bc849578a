"""Both parties sign a contract through a real Celery worker as production runs it
(``celery -A workers.celery_app worker``, prefork pool, concurrency 2) on PostgreSQL: the
web side only checks the signers and records their signing jobs (both at once, so the two
pool processes race on the contract's lock); the worker renders the PDF, adds the two
PAdES signatures, activates the contract and commits its money. pyHanko's validator (the
library and its command line) accepts both signatures with the deployment's CA as the
trust root."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from procure import pades, signing
from procure.budgets import services as bs
from procure.contracts import services as cs
from procure.contracts.models import Contract, ContractState, ContractVersion, Signature, VersionState
from procure.jobs.models import Job, JobState
from procure.tenders.models import Tender

from ..conftest import free_port
from ..contracts.conftest import draft_data, final_award
from ..factories import Factory
from .conftest import WorkerProcess, live_app, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture()
def worker(app, tmp_path):
    folder = tmp_path / "worker"
    folder.mkdir()
    w = WorkerProcess(free_port(), folder, app_module="workers.celery_app", concurrency=2)
    w.start()
    try:
        yield w
    finally:
        w.stop()


def test_both_parties_sign_in_the_worker(db, make, worker, tmp_path):
    award = final_award(make, db, price="60036.00", allocated="80000.00")
    make.commit()
    instance = worker.log_dir / "instance"  # the worker's instance folder: its CA and documents
    live = live_app(mail_port=1)
    live.config["DOCUMENTS_DIR"] = str(instance / "documents")
    live.config["SIGNING_CA_DIR"] = str(instance / "signing-ca")
    with live.app_context():
        from procure.auth.models import User
        from procure.extensions import db as live_db

        assert signing.init_ca()  # the deployment's CA, where the worker finds it
        ca_pem = signing.ca_paths()[0]
        contract_id = cs.draft_contract(live_db.session.get(User, award.officer.id),
                                        live_db.session.get(Tender, award.tender.id), draft_data()).id
        live_db.session.commit()  # the render job goes to Redis
        live_db.session.remove()

    def version():
        db.session.expire_all()
        return db.session.scalars(sa.select(ContractVersion).where(ContractVersion.contract_id == contract_id)).one()

    wait_for(lambda: version().state == VersionState.READY, timeout=90, interval=0.2)
    with live.app_context():
        # Both sign at once: the request checks and records; nothing is signed here.
        for uid in (award.org_user.id, award.officer.id):
            cs.request_signature(live_db.session.get(User, uid), live_db.session.get(Contract, contract_id),
                                 Factory.PASSWORD, seen_version=1)
            live_db.session.commit()  # the signing job goes to Redis
        live_db.session.remove()

    def active():
        db.session.expire_all()
        return db.session.get(Contract, contract_id).state == ContractState.ACTIVE

    try:
        wait_for(active, timeout=120, interval=0.2)
    except AssertionError:  # pragma: no cover - the worker's log says why
        jobs = db.session.scalars(sa.select(Job).where(Job.kind == cs.SIGN_JOB)).all()
        raise AssertionError([(j.state, j.message) for j in jobs], worker.log_text()[-4000:]) from None
    jobs = db.session.scalars(sa.select(Job).where(Job.kind == cs.SIGN_JOB)).all()
    assert len(jobs) == 2 and all(j.state == JobState.DONE for j in jobs)
    v = version()
    assert v.state == VersionState.SIGNED
    assert len(db.session.scalars(sa.select(Signature).where(Signature.version_id == v.id)).all()) == 2
    contract = db.session.get(Contract, contract_id)
    assert sum(f.committed for f in cs.fundings(contract)) == Decimal("60036.00")
    assert bs.reconcile() == []
    data = (instance / "documents" / v.signed_sha256[:2] / v.signed_sha256).read_bytes()
    # pyHanko's validator, with the deployment's CA as the trust root
    results = pades.validate_pdf(data, trust_roots=_roots(ca_pem))
    assert [r.ok for r in results] == [True, True]
    path = tmp_path / "signed.pdf"
    path.write_bytes(data)
    out = subprocess.run([str(Path(sys.executable).parent / "pyhanko"), "sign", "validate", "--trust", str(ca_pem),
                          str(path)], capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    assert out.returncode == 0, out.stdout + out.stderr
    broken = bytearray(data)
    broken[len(broken) // 3] ^= 0x01
    assert not any(r.ok for r in pades.validate_pdf(bytes(broken), trust_roots=_roots(ca_pem)))


def _roots(ca_pem: Path):
    from cryptography import x509

    return [x509.load_pem_x509_certificate(ca_pem.read_bytes())]
