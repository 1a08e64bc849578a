"""Each role's acceptance work on the dashboard: the evaluator's acceptances to declare
on and score, the officer's to organize and decide, the organization's final report and
rectification due — and nobody else's."""

from __future__ import annotations

from procure.acceptance import services as svc
from procure.queues import lists_for
from procure.roles import Role

from .conftest import evaluating, submitted, third_party


def _items(user, key):
    for entry in lists_for(user):
        if entry["list"].key == key:
            return entry["items"]
    return []


def test_worklists(make, db, app):
    with app.test_request_context():
        aw = evaluating(make, db, n=3)
        number = aw.contract.number
        assert [i.title.split(" · ")[0] for i in _items(aw.evaluators[0], "acceptance.assignments")] == [number]
        assert _items(make.user(Role.EVALUATOR), "acceptance.assignments") == []
        assert [i.title.split(" · ")[0] for i in _items(aw.officer, "acceptance.department")] == [number]
        assert _items(make.user(Role.OFFICER), "acceptance.department") == []
        svc.declare(aw.evaluators[0], aw.acc, False)
        svc.submit_scores(aw.evaluators[0], aw.acc, {"budget_execution": "9", "outputs": "45", "outcomes": "27",
                                                     "satisfaction": "9"})
        db.session.commit()
        assert _items(aw.evaluators[0], "acceptance.assignments") == []
        # The organization: the final report due on a contract in force, then the rectification.
        fresh = make.active_contract()
        db.session.commit()
        due = _items(fresh.org_user, "acceptance.organization")
        assert [i.title.split(" · ")[0] for i in due] == [fresh.contract.number]
        assert _items(aw.org_user, "acceptance.organization") == []  # submitted: nothing due
        failed = third_party(make, db, "50")
        svc.decide(failed.officer, failed.acc)
        db.session.commit()
        items = _items(failed.org_user, "acceptance.organization")
        assert len(items) == 1 and items[0].due_at is not None
        other = submitted(make, db)
        assert _items(other.org_user, "acceptance.organization") == []
