"""Signing runs in the worker: the web request checks the signer (role, party, password,
the version they saw, nothing already on its way) and records a job; the worker adds the
PDF signature, and the second party's activates the contract and commits its money. The
page shows the progress, a failure (nothing signed) and the form to try again; a second
click while the signature is on its way is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from procure import pades
from procure.audit import AuditEvent
from procure.budgets import services as bs
from procure.budgets.models import ContractFunding
from procure.contracts import services as cs
from procure.contracts.models import Contract, ContractState, ContractVersion, Signature, VersionState
from procure.documents.models import Document
from procure.documents.services import read_document
from procure.errors import Conflict, NotPermitted
from procure.jobs.models import Job, JobState
from procure.jobs.services import run_job

from ..conftest import login
from ..factories import Factory
from .conftest import drafted, final_award

PW = Factory.PASSWORD


def _sign_jobs(db, contract_id):
    db.session.expire_all()
    return list(db.session.scalars(select(Job).where(Job.kind == cs.SIGN_JOB,
                                                     Job.params["contract_id"].as_integer() == contract_id)
                                   .order_by(Job.id)))


def _signing_sent(held):
    return [t for t in held if t[0] == cs.SIGN_TASK]


def test_the_request_records_a_job_and_the_worker_signs(make, db, ca, client, held):
    award = final_award(make, db)
    contract = drafted(make, db, award)
    version = contract.current_version
    login(client, award.org_user.username)
    page = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert 'id="sign"' in page and f'name="version" type="hidden" value="{version.number}"' in page
    r = client.post(f"/contracts/{contract.id}/sign", data={"password": "wrong", "version": "1"})
    assert r.status_code == 400 and "密码不正确" in r.get_data(as_text=True)
    assert _sign_jobs(db, contract.id) == [] and _signing_sent(held) == []
    r = client.post(f"/contracts/{contract.id}/sign", data={"password": PW, "version": "1"})
    assert r.status_code == 302
    [job] = _sign_jobs(db, contract.id)
    assert job.state == JobState.QUEUED and _signing_sent(held) == [(cs.SIGN_TASK, (job.id,))]  # sent after the commit
    assert job.params == {"contract_id": contract.id, "version_id": version.id, "party": "organization"}
    # nothing is signed in the request: no signature, the version's PDF untouched
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0
    assert db.session.get(ContractVersion, version.id).signed_document_id is None
    # the page shows the progress instead of the form; a second click is refused cleanly
    page = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert 'id="signing"' in page and f'id="job-{job.id}"' in page and 'id="sign"' not in page
    assert 'data-signing="organization"' in page
    r = client.post(f"/contracts/{contract.id}/sign", data={"password": PW, "version": "1"})
    assert r.status_code == 400 and "正在" in r.get_data(as_text=True)
    assert len(_sign_jobs(db, contract.id)) == 1
    # the progress endpoint answers the signer
    assert client.get(f"/jobs/{job.id}").get_json()["state"] == "queued"
    # the worker signs
    assert run_job(job.id, cs.add_signature) == "done"
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.result["contract_state"] == "pending_signature" and job.percent == 100
    [sig] = db.session.scalars(select(Signature)).all()
    assert sig.user_id == award.org_user.id and sig.party.value == "organization"
    page = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert 'id="signing"' not in page and 'id="sign"' not in page and award.org_user.name in page
    actions = [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "contracts").order_by(AuditEvent.seq))]
    assert actions[-2:] == ["contract.sign_request", "contract.sign"]


def test_the_second_signature_activates_and_commits_in_the_worker(make, db, ca, held):
    award = final_award(make, db, price="60036.00")
    contract = drafted(make, db, award)
    version = contract.current_version
    first = cs.request_signature(award.org_user, contract, PW, seen_version=1)
    db.session.commit()
    # both requests may be on their way at once: the worker adds the second on top
    second = cs.request_signature(award.officer, db.session.get(Contract, contract.id), PW, seen_version=1)
    db.session.commit()
    assert db.session.get(Contract, contract.id).state == ContractState.PENDING_SIGNATURE
    assert db.session.scalar(select(func.count()).select_from(ContractFunding)) == 0
    assert run_job(first.id, cs.add_signature) == "done"
    assert run_job(second.id, cs.add_signature) == "done"
    db.session.expire_all()
    contract = db.session.get(Contract, contract.id)
    assert contract.state == ContractState.ACTIVE and contract.published_at is not None
    assert db.session.get(ContractVersion, version.id).state == VersionState.SIGNED
    assert sum(f.committed for f in cs.fundings(contract)) == Decimal("60036.00")
    results = pades.validate_pdf(read_document(db.session.get(ContractVersion, version.id).signed_document))
    assert [r.ok for r in results] == [True, True]
    assert bs.reconcile() == []


def test_a_stale_page_another_party_member_and_a_signed_party_are_refused(make, db, ca, held):
    award = final_award(make, db)
    contract = drafted(make, db, award)
    colleague = make.user(award.org_user.role, organization=award.org)
    with pytest.raises(Conflict, match="Someone else changed|已被他人|其他人"):
        cs.request_signature(award.org_user, contract, PW, seen_version=2)  # the page showed another version
    db.session.rollback()
    cs.request_signature(award.org_user, db.session.get(Contract, contract.id), PW, seen_version=1)
    db.session.commit()
    # a colleague of the same organization while its signature is on its way
    with pytest.raises(Conflict):
        cs.request_signature(colleague, db.session.get(Contract, contract.id), PW, seen_version=1)
    db.session.rollback()
    # someone of a third organization
    stranger = make.user(award.org_user.role, organization=make.organization())
    with pytest.raises(NotPermitted):
        cs.request_signature(stranger, db.session.get(Contract, contract.id), PW)
    db.session.rollback()
    assert len(_sign_jobs(db, contract.id)) == 1


def test_a_failure_is_shown_nothing_is_signed_and_it_can_be_retried(make, db, ca, client, held, monkeypatch):
    award = final_award(make, db)
    contract = drafted(make, db, award)
    version = contract.current_version
    documents = db.session.scalar(select(func.count()).select_from(Document))

    def broken(*args, **kwargs):
        raise RuntimeError("the signing device is gone")

    original = pades.sign_pdf
    monkeypatch.setattr(pades, "sign_pdf", broken)
    login(client, award.org_user.username)
    assert client.post(f"/contracts/{contract.id}/sign", data={"password": PW, "version": "1"}).status_code == 302
    [job] = _sign_jobs(db, contract.id)
    assert run_job(job.id, cs.add_signature) == "failed"
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == JobState.FAILED and job.message
    # never half-signed: no signature, no signed file, the version as it was
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0
    assert db.session.scalar(select(func.count()).select_from(Document)) == documents
    v = db.session.get(ContractVersion, version.id)
    assert v.state == VersionState.READY and v.signed_document_id is None
    # the page says so and offers the form again
    page = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert 'id="sign-failed"' in page and job.message in page and 'id="sign"' in page
    monkeypatch.setattr(pades, "sign_pdf", original)
    assert client.post(f"/contracts/{contract.id}/sign", data={"password": PW, "version": "1"}).status_code == 302
    retry = _sign_jobs(db, contract.id)[-1]
    assert retry.id != job.id and run_job(retry.id, cs.add_signature) == "done"
    page = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert 'id="sign-failed"' not in page and db.session.scalar(select(func.count()).select_from(Signature)) == 1


def test_the_last_signature_refused_by_the_ledger_fails_its_job(make, db, ca, held):
    award = final_award(make, db, price="60036.00", allocated="50000.00")
    contract = drafted(make, db, award)
    cs.sign_contract(award.org_user, contract, PW)
    db.session.commit()
    job = cs.request_signature(award.officer, db.session.get(Contract, contract.id), PW)
    db.session.commit()
    assert run_job(job.id, cs.add_signature) == "failed"
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert "50,000.00" in job.message
    contract = db.session.get(Contract, contract.id)
    assert contract.state == ContractState.PENDING_SIGNATURE
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1
    assert db.session.scalar(select(func.count()).select_from(ContractFunding)) == 0
    assert bs.reconcile() == []


def test_a_signer_disabled_before_the_worker_runs_is_refused_there(make, db, ca, held):
    from procure.auth.models import User, UserStatus

    award = final_award(make, db)
    contract = drafted(make, db, award)
    job = cs.request_signature(award.org_user, contract, PW)
    db.session.commit()
    db.session.get(User, award.org_user.id).status = UserStatus.DISABLED
    db.session.commit()
    assert run_job(job.id, cs.add_signature) == "failed"
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0


def test_a_signing_whose_worker_died_does_not_hold_the_party_back(make, db, ca, client, held):
    from datetime import timedelta

    from sqlalchemy import update

    from procure.timeutil import utcnow

    award = final_award(make, db)
    contract = drafted(make, db, award)
    job = cs.request_signature(award.org_user, contract, PW, seen_version=1)
    db.session.commit()
    # its worker took it and died (the work, one transaction, rolled back with it)
    db.session.execute(update(Job).where(Job.id == job.id).values(
        state=JobState.RUNNING, started_at=utcnow() - cs.SIGN_STALE + timedelta(minutes=1)))
    db.session.commit()
    with pytest.raises(Conflict):  # still running, for all we know
        cs.request_signature(award.org_user, db.session.get(Contract, contract.id), PW)
    db.session.rollback()
    db.session.execute(update(Job).where(Job.id == job.id).values(started_at=utcnow() - cs.SIGN_STALE))
    db.session.commit()
    login(client, award.org_user.username)
    page = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert 'id="sign-failed"' in page and 'id="sign"' in page and 'id="signing"' not in page
    assert client.post(f"/contracts/{contract.id}/sign", data={"password": PW, "version": "1"}).status_code == 302
    retry = _sign_jobs(db, contract.id)[-1]
    assert retry.id != job.id and run_job(retry.id, cs.add_signature) == "done"
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1
