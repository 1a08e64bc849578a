"""Status badges are coloured by meaning, the same for every machine."""

from __future__ import annotations

import pytest

from procure import workflow
from procure.badges import state_badge, tone


@pytest.mark.parametrize(("value", "expected"), [
    ("approved", "success"), ("active", "success"), ("passed", "success"),
    ("rejected", "danger"), ("terminated", "danger"), ("cancelled", "danger"),
    ("submitted", "warning"), ("revision_requested", "warning"), ("pending_signature", "warning"),
    ("draft", "secondary"), ("superseded", "secondary"),
    ("in_progress", "primary"),
])
def test_tone_by_meaning(app, value, expected):
    states = [s for m in workflow.MACHINES.values() for s in m.states if s.value == value]
    assert states, f"no machine has a state {value!r}"
    assert {tone(s) for s in states} == {expected}


def test_badge_markup_escapes_and_marks_the_state(app):
    from procure.projects.models import ProjectState

    with app.test_request_context():
        html = str(state_badge(ProjectState.SUBMITTED, id="x", large=True))
        assert 'class="badge text-bg-warning fs-6"' in html and 'data-state="submitted"' in html
        assert 'id="x"' in html
        assert "<b>" not in str(state_badge(ProjectState.DRAFT, label="<b>"))
