"""Project services: every allowed and every forbidden transition, permissions, input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from procure.audit import AuditEvent
from procure.budgets.models import LedgerEntry
from procure.errors import BudgetExceeded, InvalidTransition, NotPermitted, ValidationError
from procure.permissions import visible
from procure.projects import services as ps
from procure.projects.models import Project, ProjectState
from procure.roles import Role

S = ProjectState


@pytest.fixture()
def world(make):
    officer = make.user(Role.OFFICER)
    appr = make.appropriation(officer.department, "500000.00")
    return officer, appr


def _project_in(make, officer, appr, state: S) -> Project:
    """A project brought to ``state`` through the services (later states via the map)."""
    p = make.project(officer)
    if state == S.DRAFT:
        return p
    if state == S.CANCELLED:
        return ps.cancel_project(officer, p, "不再需要")
    ps.submit_project(officer, p)
    if state == S.SUBMITTED:
        return p
    ps.approve_project(make.finance(), p, [(appr.id, "50000.00")])
    path = [S.APPROVED, S.TENDERING, S.AWARDED, S.CONTRACTED, S.IN_PROGRESS, S.ACCEPTANCE, S.CLOSED]
    for nxt in path[1:path.index(state) + 1]:
        if nxt == S.CLOSED:  # closing has its own service (procure.archive); the map only here
            ps.PROJECT_MACHINE.transition(p, nxt, officer)
        else:
            ps.advance_project(officer, p, nxt)
    return p


def _do(make, officer, appr, project, to: S):
    if to == S.SUBMITTED:
        return ps.submit_project(officer, project)
    if to == S.APPROVED and project.state == S.SUBMITTED:
        return ps.approve_project(make.finance(), project, [(appr.id, "10000.00")])
    if to == S.DRAFT:
        return ps.return_project(make.finance(), project, "预算说明不全")
    if to == S.CANCELLED:
        return ps.cancel_project(officer, project, "取消")
    if to == S.CLOSED:  # closing has its own service (procure.archive); advance refuses it
        with pytest.raises(InvalidTransition):
            ps.advance_project(officer, project, to)
        return ps.PROJECT_MACHINE.transition(project, to, officer)
    return ps.advance_project(officer, project, to)


ALL_PAIRS = [(a, b) for a in S for b in S if a != b]


@pytest.mark.parametrize(("start", "to"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_every_transition(make, db, world, start, to):
    officer, appr = world
    project = _project_in(make, officer, appr, start)
    assert project.state == start
    if to in ps.ALLOWED[start]:
        _do(make, officer, appr, project, to)
        assert project.state == to
        db.session.commit()
        ev = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "projects",
                                                         AuditEvent.action == ps.PROJECT_MACHINE.action(start, to))
                                .order_by(AuditEvent.seq.desc())).first()
        assert ev.before == {"state": start.value} and ev.after["state"] == to.value
    else:
        with pytest.raises(InvalidTransition):
            _do(make, officer, appr, project, to)
        assert project.state == start


def test_cancel_allowed_exactly_before_contracted():
    assert {s for s in S if S.CANCELLED in ps.ALLOWED[s]} == set(ps.CANCELLABLE)
    assert S.CONTRACTED not in ps.CANCELLABLE and S.AWARDED in ps.CANCELLABLE


def test_approve_reserves_and_cancel_releases(make, db, world):
    officer, appr = world
    appr2 = make.appropriation(officer.department, "1000.01", source="lottery")
    p = make.project(officer, ceiling="100000.00")
    ps.submit_project(officer, p)
    ps.approve_project(make.finance(), p, [(appr.id, "60000.10"), (appr2.id, "1000.01")])
    assert appr.allocated == Decimal("60000.10") and appr2.allocated == Decimal("1000.01")
    assert appr2.remaining == Decimal("0.00")
    assert ps.project_totals([p.id])[p.id][0] == Decimal("61000.11")
    ps.cancel_project(officer, p, "需求取消")
    assert appr.allocated == Decimal("0.00") and appr2.allocated == Decimal("0.00")
    kinds = [e.kind.value for e in db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))]
    assert kinds == ["allocate", "allocate", "release", "release"]


def test_approve_refuses_more_than_ceiling_or_remaining(make, db, world):
    officer, appr = world
    p = make.project(officer, ceiling="100000.00")
    ps.submit_project(officer, p)
    with pytest.raises(BudgetExceeded, match="最高限价"):
        ps.approve_project(make.finance(), p, [(appr.id, "100000.01")])
    small = make.appropriation(officer.department, "99.99", source="central")
    with pytest.raises(BudgetExceeded, match="99.99"):
        ps.approve_project(make.finance(), p, [(small.id, "100.00")])


def test_approve_refuses_other_department_or_year(make, world):
    officer, _appr = world
    other = make.appropriation(make.department(), "9000.00")
    later = make.appropriation(officer.department, "9000.00", year=2027)
    p = make.project(officer)
    ps.submit_project(officer, p)
    for appr in (other, later):
        with pytest.raises(ValidationError, match="所在部门及财政年度"):
            ps.approve_project(make.finance(), p, [(appr.id, "10.00")])


def test_return_needs_reason_and_goes_back_to_draft(make, world):
    officer, _ = world
    p = make.project(officer)
    ps.submit_project(officer, p)
    with pytest.raises(ValidationError):
        ps.return_project(make.finance(), p, "  ")
    ps.return_project(make.finance(), p, "绩效目标不明确")
    assert p.state == S.DRAFT and p.state_reason == "绩效目标不明确"


def test_submit_needs_a_target(make, world):
    officer, _ = world
    p = make.project(officer, targets=[])
    with pytest.raises(ValidationError):
        ps.submit_project(officer, p)


@pytest.mark.parametrize("role", [Role.ORG, Role.EVALUATOR, Role.ADMIN, Role.FINANCE])
def test_only_officers_create_projects(make, world, role):
    user = make.user(role)
    with pytest.raises(NotPermitted):
        make.project(user)


def test_officer_of_another_department_cannot_touch(make, world):
    officer, appr = world
    p = make.project(officer)
    stranger = make.user(Role.OFFICER)
    with pytest.raises(NotPermitted):
        ps.submit_project(stranger, p)
    with pytest.raises(NotPermitted):
        ps.cancel_project(stranger, p, "x")
    ps.submit_project(officer, p)
    with pytest.raises(NotPermitted):
        ps.approve_project(officer, p, [(appr.id, "1.00")])


def test_visibility(make, db, world):
    officer, _ = world
    mine = make.project(officer)
    theirs = make.project(make.user(Role.OFFICER))
    seen = set(db.session.scalars(visible(officer, "project.view", Project)))
    assert mine in seen and theirs not in seen
    assert {mine, theirs} <= set(db.session.scalars(visible(make.finance(), "project.view", Project)))
    for role in (Role.ORG, Role.EVALUATOR):
        assert not db.session.scalars(visible(make.user(role), "project.view", Project)).all()


@pytest.mark.parametrize(("field", "value", "error"), [
    ("budget_ceiling", "-5", "budget_ceiling"), ("budget_ceiling", "10.001", "budget_ceiling"),
    ("budget_ceiling", "abc", "budget_ceiling"), ("fiscal_year", 1999, "fiscal_year"),
    ("fiscal_year", 2999, "fiscal_year"), ("category_id", 999999, "category_id"),
    ("category_id", "9" * 20, "category_id"),
    ("period_end", date(2025, 1, 1), "period_end"), ("method", "bribery", "method"),
])
def test_bad_project_input(make, db, world, field, value, error):
    officer, _ = world
    from procure.projects.services import ProjectData, TargetData

    cat = make.category()
    data = dict(title="T", category_id=cat.id, fiscal_year=2026, service_area="a", target_group="b",
                budget_ceiling="100.00", method="inquiry", period_start=date(2026, 1, 1),
                period_end=date(2026, 6, 30), targets=[TargetData("人数", "人", "5")])
    data[field] = value
    before = db.session.query(Project).count()
    with pytest.raises(ValidationError) as exc:
        ps.create_project(officer, ProjectData(**data))
    if error != "category":
        assert exc.value.field == error
    assert db.session.query(Project).count() == before


def test_inactive_category_cannot_be_chosen(make, world):
    officer, _ = world
    cat = make.category()
    ps.save_category(make.admin(), cat, cat.code, cat.name, is_active=False)
    with pytest.raises(ValidationError):
        make.project(officer, category=cat)


def test_edit_only_in_draft_and_audited(make, db, world):
    officer, _ = world
    from procure.projects.services import ProjectData, TargetData

    p = make.project(officer)
    data = ProjectData(title="新标题", category_id=p.category_id, fiscal_year=2026, service_area="江北区",
                       target_group="x", budget_ceiling="123.45", method="inquiry",
                       period_start=date(2026, 1, 1), period_end=date(2026, 2, 1),
                       targets=[TargetData("人数", "人", "10", True)])
    ps.update_project(officer, p, data)
    assert p.budget_ceiling == Decimal("123.45") and len(p.targets) == 1
    ev = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "project.update")).one()
    assert ev.after["title"] == "新标题"
    ps.submit_project(officer, p)
    with pytest.raises(InvalidTransition):
        ps.update_project(officer, p, data)


def test_budget_check_cannot_allocate_again_after_tendering(make, db, world):
    officer, appr = world
    p = _project_in(make, officer, appr, S.TENDERING)
    allocated = appr.allocated
    with pytest.raises(InvalidTransition):
        ps.approve_project(make.finance(), p, [(appr.id, "10.00")])
    assert appr.allocated == allocated
    ps.advance_project(officer, p, S.APPROVED)  # re-tender after 流标: the reservation stays
    assert p.state == S.APPROVED and appr.allocated == allocated


def test_beneficiaries_served_not_in_draft_and_bounded(make, db, world):
    """The rule the page shows (no served count on a draft) holds in the service, and a
    number too large for the column is a form message, not a database error."""
    officer, appr = world
    draft = make.project(officer)
    with pytest.raises(InvalidTransition):
        ps.record_beneficiaries_served(officer, draft, 5)
    p = ps.submit_project(officer, make.project(officer))
    with pytest.raises(ValidationError) as exc:
        ps.record_beneficiaries_served(officer, p, "9999999999")
    assert exc.value.field == "beneficiaries_served"
    assert ps.record_beneficiaries_served(officer, p, "12").beneficiaries_served == 12


def test_approve_refuses_an_id_too_large_for_the_column(make, world):
    officer, _ = world
    p = ps.submit_project(officer, make.project(officer))
    with pytest.raises(ValidationError) as exc:
        ps.approve_project(make.finance(), p, [("9" * 20, "10.00")])
    assert exc.value.field == "allocations"
