"""An organization's staff open the page of a project their organization holds a contract
for (issue 11: "the project page tells the whole story … for each role, what it may see"),
and nobody else's: table-driven over the actors, then what the page shows them.

The organization sees the project's plan, its timeline, its own contract, milestones,
payments and acceptance; not the government side (the money summary, the funds reserved
from appropriations, the project's own history: budget checks and their notes), and not
the losing bidder. The list of projects stays with staff."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from procure.delivery.models import ReportState
from procure.payments.models import Payment
from procure.permissions import can, visible
from procure.projects.models import Project
from procure.roles import Role
from procure.tenders.models import BidState

from ..conftest import login
from ..delivery.conftest import report_in

ANON, ORG_A, ORG_A2, ORG_B, LOSER, OFF_A, OFF_B, FIN, ADMIN, EV = (
    "anon", "org_a", "org_a_colleague", "org_b", "losing_bidder", "officer_a", "officer_b", "finance", "admin",
    "evaluator")
#: actor → status of A's project page
PAGE = {ANON: 302, ORG_A: 200, ORG_A2: 200, ORG_B: 403, LOSER: 403, OFF_A: 200, OFF_B: 403, FIN: 200, ADMIN: 200,
        EV: 403}


@pytest.fixture()
def world(make, db):
    a = make.active_contract()
    report_in(db, a, ReportState.APPROVED, milestone=a.contract.milestones[0])  # raises a payment
    loser_org = make.organization("重庆市南岸区落选社工服务中心")
    loser = make.user(Role.ORG, organization=loser_org)
    make.bid(a.tender, loser_org, loser, state=BidState.NOT_AWARDED)
    b = make.active_contract()
    users = {ORG_A: a.org_user, ORG_A2: make.user(Role.ORG, organization=a.org), ORG_B: b.org_user, LOSER: loser,
             OFF_A: a.officer, OFF_B: b.officer, FIN: make.user(Role.FINANCE), ADMIN: make.admin(),
             EV: make.user(Role.EVALUATOR)}
    db.session.commit()
    return a, b, loser_org, users


@pytest.mark.parametrize("actor", list(PAGE))
def test_who_opens_the_project_page(app, client, world, actor):
    a, _b, _loser, users = world
    client = app.test_client()
    if actor != ANON:
        assert login(client, users[actor].username).status_code == 302
    resp = client.get(f"/projects/{a.project.id}")
    assert resp.status_code == PAGE[actor], actor
    if actor == ANON:
        assert "/login" in resp.location
    elif PAGE[actor] == 403:
        assert a.project.title not in resp.get_data(as_text=True)


def test_the_rule_lists_what_it_admits(world, db):
    """The one-object check and the list filter agree for the organization's staff."""
    a, b, _loser, users = world
    projects = db.session.scalars(sa.select(Project)).all()
    for actor in (ORG_A, ORG_A2, ORG_B, LOSER):
        listed = set(db.session.scalars(visible(users[actor], "project.view", Project)))
        admitted = {p for p in projects if can(users[actor], "project.view", p)}
        assert listed == admitted
    assert {p.id for p in db.session.scalars(visible(users[ORG_A], "project.view", Project))} == {a.project.id}
    assert {p.id for p in db.session.scalars(visible(users[ORG_B], "project.view", Project))} == {b.project.id}
    assert not db.session.scalars(visible(users[LOSER], "project.view", Project)).all()


def test_what_the_organization_sees(app, client, world, db):
    a, b, loser_org, users = world
    payment = db.session.scalar(sa.select(Payment).where(Payment.contract_id == a.contract.id))
    assert payment is not None
    staff, org = client, app.test_client()  # each an IsolatedClient (the client fixture)
    assert login(staff, users[OFF_A].username).status_code == 302
    theirs = staff.get(f"/projects/{a.project.id}").get_data(as_text=True)
    assert 'href="/projects/"' in staff.get("/dashboard").get_data(as_text=True)
    assert login(org, users[ORG_A].username).status_code == 302
    page = org.get(f"/projects/{a.project.id}").get_data(as_text=True)
    # theirs: the plan, the timeline, the contract, its milestones and payments
    for html in (page, theirs):
        assert a.project.title in html and 'id="timeline"' in html and a.contract.number in html
        assert 'id="project-contracts"' in html and a.contract.milestones[0].title in html
        assert f"/payments/{payment.id}" in html
    # the government side is the staff's only
    for marker in ('id="money-summary"', 'id="allocations"', a.appropriation.source.name, 'id="history"'):
        assert marker in theirs, marker
        assert marker not in page, marker
    # nobody else's: not the losing bidder, not the other project's contract
    assert loser_org.name not in page and b.contract.number not in page
    # the list of projects stays with staff, and so does its menu entry
    assert org.get("/projects/").status_code == 403
    assert 'href="/projects/"' not in org.get("/dashboard").get_data(as_text=True)
    # the contract page links to the project now
    assert f'href="/projects/{a.project.id}"' in org.get(f"/contracts/{a.contract.id}").get_data(as_text=True)
