"""The evaluation demo (``demo_evaluation.extend``, wired by the coordinator into the
tenders demo): a tender under evaluation with its committee, one awarded with an open
challenge, one final."""

from __future__ import annotations

from sqlalchemy import select

from procure.projects.models import Project, ProjectState
from procure.tenders import demo_evaluation
from procure.tenders import evaluation as ev
from procure.tenders.models import Challenge, ChallengeState, MemberState, Tender, TenderState


def test_the_evaluation_demo(app, db, monkeypatch):
    seen = {}
    original = demo_evaluation.extend

    def extend(ctx):
        original(ctx)
        seen.update(ctx)

    monkeypatch.setattr(demo_evaluation, "extend", extend)
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    states = [db.session.get(Tender, t.id).state for t in seen["evaluation_tenders"]]
    assert states == [TenderState.EVALUATING, TenderState.AWARDED, TenderState.FINAL]
    first, second, third = seen["evaluation_tenders"]
    first = db.session.get(Tender, first.id)
    assert ev.committee_complete(first)
    assert any(m.state == MemberState.CONFLICTED for m in ev.members_of(first))
    assert db.session.scalar(select(Challenge.state).where(Challenge.tender_id == second.id)) == ChallengeState.OPEN
    # The contracts demo signs the contract of the final award and the delivery demo reports
    # its first milestone: the project is in progress.
    assert db.session.get(Project, db.session.get(Tender, third.id).project_id).state == ProjectState.IN_PROGRESS
    verify = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output
