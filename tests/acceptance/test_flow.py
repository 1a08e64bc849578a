"""The acceptance journeys at the service level: the final report moves the project to
acceptance; a committee (a conflicted evaluator cannot score, another is added) passes
the contract; a first failure orders rectification, the resubmission is evaluated again
and a second failure terminates the contract; a rectification period that runs out
terminates too. Each decision writes the organization's record and is published."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from procure import signals
from procure.acceptance import services as svc
from procure.acceptance.models import AcceptanceState, EvaluatorState, Grade
from procure.acceptance.rendering import build_certificate
from procure.contracts.models import ContractState
from procure.documents.services import read_document
from procure.errors import Conflict, InvalidTransition, NotPermitted, ValidationError
from procure.jobs.models import Job
from procure.jobs.services import run_job
from procure.notifications.models import Notice
from procure.organizations.models import PerformanceRecord
from procure.projects.models import ProjectState
from procure.roles import Role

from .conftest import evaluating, score_all, scores_for, submitted, third_party

A = AcceptanceState


@pytest.fixture()
def received():
    got = {"passed": [], "failed": []}

    def on_pass(sender, actor=None, **_):
        got["passed"].append(sender.id)

    def on_fail(sender, actor=None, **_):
        got["failed"].append(sender.id)

    signals.acceptance_passed.connect(on_pass)
    signals.acceptance_failed_finally.connect(on_fail)
    yield got
    signals.acceptance_passed.disconnect(on_pass)
    signals.acceptance_failed_finally.disconnect(on_fail)


def _notices(db, user) -> int:
    return db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.user_id == user.id, Notice.rule.like("acceptance.%")))


def test_final_report_moves_the_project_to_acceptance(make, db):
    aw = submitted(make, db)
    db.session.refresh(aw.project)
    assert aw.project.state == ProjectState.ACCEPTANCE
    acc = aw.acc
    assert acc.state == A.SUBMITTED and acc.round == 1 and acc.submitted_at is not None
    assert [r["actual"] for r in acc.actuals] == ["310.00", "1250.50"]
    assert [r["target"] for r in acc.actuals] == ["300.00", "1200.50"]
    assert _notices(db, aw.officer) == 1  # the officer acts next


def test_committee_passes_the_contract(make, db, received):
    aw = evaluating(make, db, n=3)
    acc = aw.acc
    first, second, third = aw.evaluators
    assert all(_notices(db, e) == 1 for e in aw.evaluators)
    svc.declare(first, acc, True, "曾在该机构兼职")
    db.session.commit()
    with pytest.raises(NotPermitted):
        svc.submit_scores(first, acc, scores_for(85))
    db.session.rollback()
    ok, why = svc.decision_ready(acc)
    assert not ok
    fourth = make.user(Role.EVALUATOR)
    svc.add_evaluator(aw.officer, acc, str(fourth.id))
    db.session.commit()
    score_all(db, aw, "85.5", [second, third])
    with pytest.raises(ValidationError, match="3"):
        svc.decide(aw.officer, acc)
    db.session.rollback()
    svc.declare(fourth, acc, False)
    svc.submit_scores(fourth, acc, scores_for("82.5"))
    db.session.commit()
    res = svc.result(acc)
    assert res.scorers == 3 and res.total == Decimal("84.50") and res.grade == Grade.GOOD
    svc.decide(aw.officer, acc, "同意通过验收")
    db.session.commit()
    db.session.refresh(acc)
    assert acc.state == A.PASSED and acc.grade == Grade.GOOD and acc.score == Decimal("84.50")
    assert acc.published_at is not None and acc.decided_by_id == aw.officer.id
    assert acc.contract.state == ContractState.COMPLETED
    assert received["passed"] == [acc.id] and received["failed"] == []
    rec = db.session.scalars(select(PerformanceRecord)).all()
    assert len(rec) == 1 and rec[0].passed and rec[0].is_final and rec[0].grade == "good"
    assert _notices(db, aw.org_user) == 1
    # The certificate, rendered by the worker after the commit (eager in the tests).
    job = db.session.scalar(select(Job).where(Job.kind == svc.CERT_JOB))
    assert run_job(job.id, build_certificate) in ("done", "skipped")
    db.session.expire_all()
    assert db.session.get(Job, job.id).state.value == "done"
    acc = db.session.get(type(acc), acc.id)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(read_document(acc.certificate_document))).pages)
    assert acc.contract.number in text and "良" in text and "84.50" in text
    assert "制表人" in text and "审核人" in text and second.name in text
    # Published on the portal.
    with pytest.raises(InvalidTransition):
        svc.decide(aw.officer, acc)


def test_fail_rectify_fail_terminates(make, db, received):
    aw = third_party(make, db, "55")
    acc = aw.acc
    svc.decide(aw.officer, acc)
    db.session.commit()
    assert acc.state == A.FAILED and acc.grade == Grade.POOR and acc.round == 1
    assert acc.rectify_by == svc.today() + timedelta(days=30)
    assert acc.contract.state == ContractState.ACTIVE and received["failed"] == []
    rec = db.session.scalars(select(PerformanceRecord)).one()
    assert not rec.passed and not rec.is_final
    # The organization rectifies and resubmits: round 2.
    svc.save_final_report(aw.org_user, acc, svc.ReportData("整改后补充服务记录。", ["320", "1300"], "满意"),
                          submit=True)
    db.session.commit()
    assert acc.state == A.SUBMITTED and acc.round == 2
    svc.organize_evaluation(aw.officer, acc, third_party_name="重庆某绩效评价事务所")
    svc.enter_third_party_scores(aw.officer, acc, scores_for("58"))
    svc.decide(aw.officer, acc)
    db.session.commit()
    db.session.refresh(acc)
    assert acc.state == A.TERMINATED and acc.score == Decimal("58.00")
    contract = acc.contract
    assert contract.state == ContractState.TERMINATED and contract.settlement == Decimal("0.00")
    assert received["failed"] == [acc.id]
    recs = db.session.scalars(select(PerformanceRecord).order_by(PerformanceRecord.id)).all()
    assert [(r.round, r.passed, r.is_final) for r in recs] == [(1, False, False), (2, False, True)]


def test_rectification_period_over_terminates(make, db, received):
    aw = third_party(make, db, "40")
    svc.decide(aw.officer, aw.acc)
    db.session.commit()
    due = aw.acc.rectify_by
    assert svc.lapse_rectifications(due) == []  # the last day still counts
    assert svc.lapse_rectifications(due + timedelta(days=1)) == [aw.acc.id]
    db.session.commit()
    db.session.refresh(aw.acc)
    assert aw.acc.state == A.TERMINATED and aw.acc.contract.state == ContractState.TERMINATED
    assert received["failed"] == [aw.acc.id]
    assert svc.lapse_rectifications(due + timedelta(days=2)) == []
    with pytest.raises(InvalidTransition):
        svc.save_final_report(aw.org_user, aw.acc, svc.ReportData("迟交", ["1", "1"], "意见"), submit=True)


def test_resubmission_refused_after_the_period(make, db):
    aw = third_party(make, db, "40")
    svc.decide(aw.officer, aw.acc)
    db.session.commit()
    from sqlalchemy import update

    from procure.acceptance.models import Acceptance

    db.session.execute(update(Acceptance).values(rectify_by=date(2020, 1, 1)))
    db.session.commit()
    db.session.refresh(aw.acc)
    with pytest.raises(InvalidTransition, match="2020-01-01"):
        svc.save_final_report(aw.org_user, aw.acc, svc.ReportData("迟交", ["1", "1"], "意见"), submit=True)


def test_evaluator_machine_through_the_services(make, db):
    aw = evaluating(make, db, n=3)
    a, b, _c = aw.evaluators
    row = svc.evaluator_row(a, aw.acc)
    assert row.state == EvaluatorState.ASSIGNED
    with pytest.raises(InvalidTransition):  # assigned → scored: declare first
        svc.submit_scores(a, aw.acc, scores_for(90))
    svc.declare(a, aw.acc, False)
    svc.submit_scores(a, aw.acc, scores_for(90))
    db.session.commit()
    assert row.state == EvaluatorState.SCORED
    with pytest.raises(Conflict):  # scored is final
        svc.submit_scores(a, aw.acc, scores_for(80))
    db.session.rollback()
    with pytest.raises(InvalidTransition):
        svc.declare(a, aw.acc, True, "后来发现")
    db.session.rollback()
    svc.declare(b, aw.acc, True, "亲属在该机构任职")
    db.session.commit()
    assert svc.evaluator_row(b, aw.acc).state == EvaluatorState.CONFLICTED
    with pytest.raises(InvalidTransition):
        svc.declare(b, aw.acc, False)
    db.session.rollback()
