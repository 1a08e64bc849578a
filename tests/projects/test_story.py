"""The project page tells the story: the lifecycle timeline with the day each stage was
reached, and the money (allocated, committed, paid, unpaid, uncommitted)."""

from __future__ import annotations

import re
from decimal import Decimal

from procure.projects import story
from procure.projects.models import ProjectState
from procure.roles import Role

from ..conftest import login


def test_timeline_of_an_approved_project(make, db):
    officer = make.user(Role.OFFICER)
    appr = make.appropriation(officer.department)
    project = make.approved_project(officer, appr, "50000.00")
    db.session.commit()
    steps = story.timeline(project)
    assert [s.state for s in steps] == list(story.PATH)
    status = {s.state: s.status for s in steps}
    assert status[ProjectState.DRAFT] == status[ProjectState.SUBMITTED] == "done"
    assert status[ProjectState.APPROVED] == "current"
    assert status[ProjectState.CLOSED] == "todo"
    reached = {s.state: s.at for s in steps}
    assert reached[ProjectState.SUBMITTED] is not None and reached[ProjectState.APPROVED] is not None
    assert reached[ProjectState.SUBMITTED] <= reached[ProjectState.APPROVED]
    assert reached[ProjectState.TENDERING] is None


def test_cancelled_project_ends_in_cancelled(make, db):
    from procure.projects.services import cancel_project

    officer = make.user(Role.OFFICER)
    project = make.project(officer)
    cancel_project(officer, project, "预算调整")
    db.session.commit()
    steps = story.timeline(project)
    assert [s.state for s in steps] == [ProjectState.DRAFT, ProjectState.CANCELLED]
    assert steps[-1].status == "current" and steps[-1].at is not None


def test_money_of_a_contracted_project(make, db):
    aw = make.active_contract(price="60000.00", allocated="80000.00")
    db.session.commit()
    m = story.money(aw.project)
    assert (m.allocated, m.committed, m.paid) == (Decimal("80000.00"), Decimal("60000.00"), Decimal("0.00"))
    assert m.unpaid == Decimal("60000.00") and m.uncommitted == Decimal("20000.00")


def test_project_page_shows_timeline_and_money(make, db, client):
    aw = make.active_contract(price="60000.00", allocated="80000.00")
    db.session.commit()
    login(client, aw.officer.username)
    html = client.get(f"/projects/{aw.project.id}").get_data(as_text=True)
    current = re.search(r'data-state="(\w+)" data-status="current"', html)
    assert current and current.group(1) == "contracted"
    assert 'data-state="closed" data-status="todo"' in html
    # the summary in 万元 under its unit line, the exact yuan in the tooltip
    assert re.search(r'id="money-committed" data-yuan="60000.00" title="[^"]*60,000\.00">6\.00<', html)
    assert re.search(r'id="money-uncommitted" data-yuan="20000.00" title="[^"]*20,000\.00">2\.00<', html)
    assert 'id="money-unit">单位：万元<' in html.replace("\n", "")
    assert "单位：元" in html  # the allocations table keeps exact yuan
