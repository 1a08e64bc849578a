"""Every transition of ACCEPTANCE_MACHINE and EVALUATOR_MACHINE, allowed and forbidden,
on stored rows (compare-and-set), from the machine registry; and the grade bands at
their edges."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import update

from procure.acceptance import services as svc
from procure.acceptance.models import (
    ACCEPTANCE_MACHINE,
    EVALUATOR_MACHINE,
    Acceptance,
    AcceptanceEvaluator,
    AcceptanceState,
    Grade,
)
from procure.errors import InvalidTransition
from procure.workflow import MACHINES

from .conftest import evaluating


def _pairs(machine):
    return [(a, b, machine.can(a, b)) for a in machine.states for b in machine.states if a != b]


def test_machines_are_registered():
    assert MACHINES["acceptance"] is ACCEPTANCE_MACHINE
    assert MACHINES["acceptance_evaluator"] is EVALUATOR_MACHINE
    allowed = {(a, b) for a, b, ok in _pairs(ACCEPTANCE_MACHINE) if ok}
    S = AcceptanceState
    assert allowed == {(S.DRAFT, S.SUBMITTED), (S.SUBMITTED, S.EVALUATING), (S.EVALUATING, S.PASSED),
                       (S.EVALUATING, S.FAILED), (S.EVALUATING, S.TERMINATED), (S.FAILED, S.SUBMITTED),
                       (S.FAILED, S.TERMINATED)}


def test_every_acceptance_transition(make, db):
    aw = evaluating(make, db, n=3)
    acc = aw.acc
    for current, to, ok in _pairs(ACCEPTANCE_MACHINE):
        db.session.execute(update(Acceptance).where(Acceptance.id == acc.id).values(state=current))
        db.session.commit()
        db.session.refresh(acc)
        if ok:
            ACCEPTANCE_MACHINE.transition(acc, to, aw.officer)
            db.session.commit()
            db.session.refresh(acc)
            assert acc.state == to, (current, to)
        else:
            with pytest.raises(InvalidTransition):
                ACCEPTANCE_MACHINE.transition(acc, to, aw.officer)
            db.session.rollback()
            db.session.refresh(acc)
            assert acc.state == current, (current, to)


def test_every_evaluator_transition(make, db):
    aw = evaluating(make, db, n=3)
    row = svc.evaluator_row(aw.evaluators[0], aw.acc)
    for current, to, ok in _pairs(EVALUATOR_MACHINE):
        db.session.execute(update(AcceptanceEvaluator).where(AcceptanceEvaluator.id == row.id).values(state=current))
        db.session.commit()
        db.session.refresh(row)
        if ok:
            EVALUATOR_MACHINE.transition(row, to, aw.evaluators[0])
            db.session.commit()
            db.session.refresh(row)
            assert row.state == to
        else:
            with pytest.raises(InvalidTransition):
                EVALUATOR_MACHINE.transition(row, to, aw.evaluators[0])
            db.session.rollback()


def test_stale_transition_is_a_conflict(make, db):
    """A move made on what was read, after another request moved the row: refused."""
    from procure.errors import Conflict

    aw = evaluating(make, db, n=3)
    acc = aw.acc
    db.session.execute(update(Acceptance).where(Acceptance.id == acc.id)
                       .values(state=AcceptanceState.PASSED, revision=Acceptance.revision + 1)
                       .execution_options(synchronize_session=False))
    assert acc.state == AcceptanceState.EVALUATING  # what this request read
    with pytest.raises(Conflict):
        ACCEPTANCE_MACHINE.transition(acc, AcceptanceState.FAILED, aw.officer)
    db.session.rollback()


@pytest.mark.parametrize(("score", "grade"), [
    ("59.99", Grade.POOR), ("60", Grade.FAIR), ("79.99", Grade.FAIR), ("80", Grade.GOOD),
    ("89.99", Grade.GOOD), ("90", Grade.EXCELLENT), ("0", Grade.POOR), ("100", Grade.EXCELLENT)])
def test_grade_bands(app, score, grade):
    with app.app_context():
        assert svc.grade_for(Decimal(score)) == grade
    assert grade.passed == (grade != Grade.POOR)


@pytest.mark.parametrize(("total", "state", "grade"), [
    ("59.99", AcceptanceState.FAILED, Grade.POOR), ("60", AcceptanceState.PASSED, Grade.FAIR),
    ("89.99", AcceptanceState.PASSED, Grade.GOOD), ("90", AcceptanceState.PASSED, Grade.EXCELLENT)])
def test_decisions_at_the_band_edges(make, db, total, state, grade):
    from .conftest import third_party

    aw = third_party(make, db, total)
    svc.decide(aw.officer, aw.acc)
    db.session.commit()
    assert (aw.acc.state, aw.acc.grade, aw.acc.score) == (state, grade, Decimal(total).quantize(Decimal("0.01")))
