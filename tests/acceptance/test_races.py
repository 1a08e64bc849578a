"""Concurrency on PostgreSQL with real threads: two decisions of one acceptance at once
decide it once (one performance record, one signal, one certificate job); one
evaluator's scores submitted twice at once are written once."""

from __future__ import annotations

from sqlalchemy import func, select

from procure import signals
from procure.acceptance import services as svc
from procure.acceptance.models import Acceptance, AcceptanceScore, AcceptanceState
from procure.auth.models import User
from procure.jobs.models import Job
from procure.organizations.models import PerformanceRecord
from procure.roles import Role

from ..threads import race
from .conftest import evaluating, score_all, scores_for


def test_two_decisions_at_once(app, make, db):
    aw = evaluating(make, db, n=3)
    score_all(db, aw, "91")
    second = make.user(Role.OFFICER, department=aw.officer.department)
    db.session.commit()
    acc_id, officers = aw.acc.id, (aw.officer.id, second.id)
    sent = []

    def on_pass(sender, **_):
        sent.append(sender.id)

    def decide(d, uid):
        svc.decide(d.session.get(User, uid), d.session.get(Acceptance, acc_id), "结论")

    signals.acceptance_passed.connect(on_pass)
    try:
        ok, refused = race(app, [lambda d: decide(d, officers[0]), lambda d: decide(d, officers[1])])
    finally:
        signals.acceptance_passed.disconnect(on_pass)
    assert len(ok) == 1 and len(refused) == 1, (ok, refused)
    assert refused[0][1] in ("InvalidTransition", "Conflict")
    db.session.expire_all()
    acc = db.session.get(Acceptance, acc_id)
    assert acc.state == AcceptanceState.PASSED and acc.decided_by_id == officers[ok[0]]
    assert db.session.scalar(select(func.count()).select_from(PerformanceRecord)) == 1
    assert db.session.scalar(select(func.count()).select_from(Job).where(Job.kind == svc.CERT_JOB)) == 1
    assert sent == [acc_id]


def test_one_evaluator_scoring_twice_at_once(app, make, db):
    aw = evaluating(make, db, n=3)
    evaluator = aw.evaluators[0]
    svc.declare(evaluator, aw.acc, False)
    db.session.commit()
    acc_id, uid = aw.acc.id, evaluator.id

    def score(d):
        svc.submit_scores(d.session.get(User, uid), d.session.get(Acceptance, acc_id), scores_for("88"))

    ok, refused = race(app, [score, score])
    assert len(ok) == 1 and len(refused) == 1, (ok, refused)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AcceptanceScore)) == 4
