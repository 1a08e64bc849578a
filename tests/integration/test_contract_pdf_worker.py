"""A contract's PDF rendered by a real Celery worker as production runs it (``celery -A
workers.celery_app worker``, prefork pool, concurrency 2, the schema check before the
fork) on PostgreSQL: drafted and committed in the web process, the job sent through
Redis after the commit, the worker renders, stores and makes the version ready; the PDF
it stored carries the contract number and the amount in 人民币大写."""

from __future__ import annotations

import subprocess

import pytest
import sqlalchemy as sa

from procure.contracts import services as cs
from procure.contracts.models import Contract, ContractState, ContractVersion, VersionState
from procure.jobs.models import Job, JobState
from procure.tenders.models import Tender

from ..conftest import free_port
from ..contracts.conftest import draft_data, final_award
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


def test_the_worker_renders_the_contract_pdf(db, make, worker, tmp_path):
    award = final_award(make, db, price="60036.00")
    make.commit()
    live = live_app(mail_port=1)
    documents = worker.log_dir / "instance" / "documents"  # where the worker stores files
    live.config["DOCUMENTS_DIR"] = str(documents)
    with live.app_context():
        from procure.auth.models import User
        from procure.extensions import db as live_db

        officer = live_db.session.get(User, award.officer.id)
        tender = live_db.session.get(Tender, award.tender.id)
        contract_id = cs.draft_contract(officer, tender, draft_data()).id
        live_db.session.commit()  # the render job goes to Redis after this commit
        live_db.session.remove()

    def ready():
        db.session.expire_all()
        version = db.session.scalars(sa.select(ContractVersion).where(ContractVersion.contract_id == contract_id)).one()
        return version if version.state == VersionState.READY else None

    version = wait_for(ready, timeout=60, interval=0.2)
    contract = db.session.get(Contract, contract_id)
    assert contract.state == ContractState.PENDING_SIGNATURE
    assert db.session.get(Job, version.job_id).state == JobState.DONE
    assert version.pdf_sha256 and version.content_sha256 and version.rendered_at
    path = documents / version.pdf_sha256[:2] / version.pdf_sha256
    data = path.read_bytes()
    assert data[:4] == b"%PDF"
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    squeezed = "".join(text.split())
    assert contract.number in squeezed
    assert "陆万零叁拾陆元整" in squeezed
    assert version.content_sha256 in squeezed
