"""The documents the worker renders for a project (the acceptance certificate, the payment
notices) and closing it, in the real order of events: the decision and the last payment
queue their renderings; the officer closes right after, before the worker has run.

The closed project still takes them, once: they record decisions taken while it was
open, and the archive keeps them (the flush guard lets the acceptance's empty
certificate be filled, nothing else). Replacing a document a closed project already
has is a change: ``notice_rendered`` / ``certificate_rendered`` refuse it with
``ensure_open``'s message; through the worker the job ends "failed" with that message,
nothing stored, the worker unharmed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from procure import dispatch
from procure.acceptance import services as acs
from procure.acceptance.models import Acceptance, AcceptanceState
from procure.archive import services as arch
from procure.delivery import services as ds
from procure.documents.models import Document
from procure.errors import RecordClosed
from procure.jobs.models import Job, JobState
from procure.jobs.services import create_job
from procure.payments import services as ps
from procure.payments.models import Payment, PaymentState
from procure.projects.models import Project, ProjectState
from procure.roles import Role
from procure.timeutil import to_local, utcnow

from ..acceptance.conftest import OPINION, REPORT, scores_for
from ..delivery.conftest import full_data

RENDERING = {acs.CERT_TASK, ps.NOTICE_TASK}
PDF = b"%PDF-1.4\n%late\n" + b"1 0 obj\n<<>>\nendobj\n" * 4


@pytest.fixture()
def slow_worker(monkeypatch):
    """The renderings committed are held back (the worker has not picked them up yet);
    ``run()`` sends them as the broker would, through the real tasks."""
    held: list[tuple[str, tuple]] = []
    send = dispatch.send

    def hold(name, *args):
        if name in RENDERING:
            held.append((name, args))
            return True
        return send(name, *args)

    monkeypatch.setattr(dispatch, "send", hold)

    def run(name):
        for task in [t for t in held if t[0] == name]:
            held.remove(task)
            send(task[0], *task[1])

    return type("Worker", (), {"held": held, "run": staticmethod(run)})


def _pay(db, aw, finance, installment, voucher):
    payment = db.session.scalar(select(Payment).where(Payment.installment_id == installment.id,
                                                      Payment.state != PaymentState.REJECTED))
    ps.confirm_payment(aw.officer, payment)
    db.session.commit()
    ps.approve_payment(finance, payment)
    db.session.commit()
    ps.record_paid(finance, payment, voucher, to_local(utcnow()).date())
    db.session.commit()
    return payment


def _documents(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Document))


def test_documents_rendered_after_a_quick_close_land_a_replacement_is_refused(make, db, slow_worker):
    aw = make.active_contract(shares=("60", "40"))
    finance = make.user(Role.FINANCE)
    db.session.commit()
    contract = aw.contract
    n = len(ds.blank_actuals(contract))
    report = ds.save_report(aw.org_user, contract.milestones[0], full_data(n))
    ds.submit_report(aw.org_user, report)
    ds.approve_report(aw.officer, report, "")
    db.session.commit()
    first = _pay(db, aw, finance, contract.installments[0], "PZ-1")
    slow_worker.run(ps.NOTICE_TASK)
    assert first.notice_document_id is not None

    acc = acs.open_final_report(aw.org_user, contract)
    acs.save_final_report(aw.org_user, acc, acs.ReportData(REPORT, ["310", "1250.5"], OPINION), submit=True)
    acs.organize_evaluation(aw.officer, acc, third_party_name="重庆某绩效评价事务所")
    acs.enter_third_party_scores(aw.officer, acc, scores_for(85))
    acs.decide(aw.officer, acc)
    db.session.commit()
    assert acc.state == AcceptanceState.PASSED
    last = _pay(db, aw, finance, contract.installments[-1], "PZ-2")
    assert sorted(t[0] for t in slow_worker.held) == sorted(RENDERING)  # both still to render

    # the officer closes right away, before the worker has rendered either
    arch.close_project(aw.officer, db.session.get(Project, aw.project.id), "验收合格，款项付清。")
    db.session.commit()
    assert db.session.get(Project, aw.project.id).state == ProjectState.CLOSED
    assert db.session.get(Acceptance, acc.id).certificate_document_id is None

    # the worker renders them now: both land, the archive lists them
    slow_worker.run(acs.CERT_TASK)
    slow_worker.run(ps.NOTICE_TASK)
    db.session.expire_all()
    assert db.session.get(Acceptance, acc.id).certificate_document_id is not None
    assert db.session.get(Payment, last.id).notice_document_id is not None
    jobs = db.session.scalars(select(Job).where(Job.kind.in_((acs.CERT_JOB, ps.NOTICE_JOB)))).all()
    assert {j.state for j in jobs} == {JobState.DONE}
    roles = [d.role for d in arch.project_documents(db.session.get(Project, aw.project.id))]
    assert roles.count("payment_notice") == 2 and roles.count("certificate") == 1

    # a certificate asked again after closing would replace the archived one: refused —
    # the job fails with the closed project's message, nothing stored, the worker goes on
    acc = db.session.get(Acceptance, acc.id)
    kept = acc.certificate_document_id
    job = create_job(aw.officer, acs.CERT_JOB, {"acceptance_id": acc.id, "round": acc.round})
    db.session.commit()
    documents = _documents(db)
    slow_worker.run(acs.CERT_TASK)
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == JobState.FAILED and "已结项归档" in job.message
    assert _documents(db) == documents and db.session.get(Acceptance, acc.id).certificate_document_id == kept
    # and the services refuse a replacement themselves, before the archive's flush guard
    for fn, obj in ((ps.notice_rendered, db.session.get(Payment, last.id)), (acs.certificate_rendered, acc)):
        with pytest.raises(RecordClosed) as refused:
            fn(finance, obj, PDF)
        message = str(refused.value.message)
        assert "已结项归档" in message and aw.project.title in message
        db.session.rollback()
        assert _documents(db) == documents
    # behind the services' backs, the flush guard lets only an empty certificate be filled
    acc = db.session.get(Acceptance, acc.id)
    acc.certificate_document_id = db.session.get(Payment, last.id).notice_document_id
    with pytest.raises(RecordClosed):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(Acceptance, acc.id).certificate_document_id == kept
