"""Permissions: for every rule of the registry, the list filter and the one-object check
admit exactly the same objects for every user, on generated data (several departments
and organizations, users of every role, disabled users, objects owned by different
ones). Grants held in the ``grants`` table and sealed rules count in both; a sealed
rule keeps the administrator out before the opening time; dashboard queues count with
the rules' filters."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import procure.models  # noqa: F401  (every model, for the rules that name them)
from procure import audit, permissions
from procure.auth import services as accounts
from procure.auth.models import User, UserStatus
from procure.documents.models import Document
from procure.errors import Conflict, NotPermitted
from procure.jobs.models import Job
from procure.modules import submodules
from procure.notifications.models import Notice
from procure.organizations.models import IncubationBase, Organization
from procure.permissions import NO_OBJECT, RULES, Grant, can, visible
from procure.projects.models import Project, ProjectState
from procure.roles import Role

# Every module defines its rules when its services and views are imported.
submodules("services")
submodules("views")
submodules("worklists")

FILTERED = sorted(action for action, rule in RULES.items() if rule.model is not None)


# --- generated data ---------------------------------------------------------------------


class World:
    """Three departments, three organizations, users of every role spread over them
    (a disabled officer and a disabled organization user too), and objects of every
    model a rule is about, owned by different users."""

    def __init__(self, make, db):
        self.db = db
        deps = [make.department() for _ in range(3)]
        orgs = [make.organization() for _ in range(4)]  # the fourth has no users
        admin = make.admin()
        u = self.users = [admin, make.user(Role.ADMIN, username="admin2")]
        for dep in deps[:2]:
            u += [make.user(Role.OFFICER, department=dep), make.user(Role.OFFICER, department=dep)]
        u += [make.user(Role.FINANCE, department=deps[0]), make.user(Role.FINANCE, department=deps[2])]
        for org in orgs[:3]:
            u.append(make.user(Role.ORG, organization=org))
        u.append(make.user(Role.ORG, organization=orgs[0]))
        u += [make.user(Role.EVALUATOR), make.user(Role.EVALUATOR)]
        officers = [x for x in u if x.role == Role.OFFICER]
        disabled = [make.user(Role.OFFICER, department=deps[0]), make.user(Role.ORG, organization=orgs[1])]
        for x in disabled:
            accounts.set_user_status(admin, x, UserStatus.DISABLED, "left")
        u += disabled
        self.deps, self.orgs, self.officers = deps, orgs, officers
        self.projects = [make.project(o) for o in officers for _ in range(2)]
        from procure.projects.services import submit_project

        submit_project(officers[0], self.projects[0])
        submit_project(officers[2], self.projects[4])
        db.session.add_all(IncubationBase(name=f"基地{i}", operator_id=org.id) for i, org in enumerate(orgs[:3]))
        db.session.add_all(Job(kind="test", requested_by_id=x.id) for x in u[::2])
        db.session.add(Job(kind="test", requested_by_id=None))
        db.session.add_all(
            Document(kind="test", filename=f"{i}.pdf", content_type="application/pdf", size=1,
                     sha256=hashlib.sha256(str(i).encode()).hexdigest(), owner_id=x.id,
                     permission_action="document.view_own")
            for i, x in enumerate(u[1::2]))
        db.session.add(Document(kind="test", filename="none.pdf", content_type="application/pdf", size=1,
                                sha256="1" * 64, owner_id=None, permission_action="document.view_own"))
        db.session.add_all(
            Notice(dedupe_key=f"t:{x.id}:{n}", user_id=x.id, rule="test", link="/", text="x",
                   read_at=None if n else datetime(2026, 1, 1))
            for x in u for n in range(x.id % 3))
        db.session.flush()
        self.tenders = self._tenders(make, db)

    def _tenders(self, make, db):
        """Tenders of two departments: one opened (bids entered, drafts and withdrawals
        too), one still sealed, one draft; evaluators granted (declared, or not yet),
        committee rows, scores and challenges."""
        from procure.tenders.models import (
            BidState,
            Challenge,
            CommitteeMember,
            MemberState,
            Score,
            TenderState,
        )
        from procure.timeutil import utcnow

        officers, orgs = self.officers, self.orgs
        ev1, ev2 = [x for x in self.users if x.role == Role.EVALUATOR]
        opened = make.tender(officers[0], self.projects[1], state=TenderState.CLOSED,
                             opening_at=utcnow() - timedelta(hours=2))
        sealed = make.tender(officers[2], self.projects[5], state=TenderState.PUBLISHED)
        draft = make.tender(officers[1], self.projects[2])
        bids = [make.bid(opened, orgs[0], state=BidState.OPENED), make.bid(opened, orgs[1], state=BidState.QUALIFIED),
                make.bid(opened, orgs[2]), make.bid(opened, orgs[3], state=BidState.WITHDRAWN),
                make.bid(sealed, orgs[0], state=BidState.SUBMITTED), make.bid(sealed, orgs[1])]
        for officer, ev, tender, conflict in [(officers[0], ev1, opened, False), (officers[2], ev2, sealed, False),
                                              (officers[0], ev2, opened, None)]:
            permissions.grant(officer, ev, tender, "evaluator", permission="tender.manage")
            if conflict is not None:
                permissions.declare_conflict(ev, tender, "evaluator", conflict)
        now = utcnow()
        members = [CommitteeMember(tender_id=opened.id, user_id=ev1.id, position=0, state=MemberState.DECLARED,
                                   declared_at=now),
                   CommitteeMember(tender_id=opened.id, user_id=ev2.id, position=1),
                   CommitteeMember(tender_id=sealed.id, user_id=ev2.id, position=0, state=MemberState.DECLARED,
                                   declared_at=now)]
        db.session.add_all(members)
        db.session.flush()
        criterion = opened.criteria[0]
        db.session.add_all([Score(member_id=members[0].id, bid_id=bids[1].id, criterion_id=criterion.id, score=50),
                            Score(member_id=members[1].id, bid_id=bids[1].id, criterion_id=criterion.id, score=60)])
        db.session.add_all([
            Challenge(tender_id=opened.id, organization_id=orgs[0].id, reason="评分不公", lodged_by_id=self.users[0].id,
                      answer_due_at=now + timedelta(days=9)),
            Challenge(tender_id=sealed.id, organization_id=orgs[1].id, reason="资格条件", lodged_by_id=self.users[0].id,
                      answer_due_at=now + timedelta(days=9))])
        db.session.flush()
        self._contracts(db, [(opened, bids[1]), (sealed, bids[4])])
        self._acceptances(db, ev1, ev2)
        return {"opened": opened, "sealed": sealed, "draft": draft, "bids": bids}

    def _contracts(self, db, pairs):
        """A contract per (tender, bid): of two departments and two organizations."""
        from datetime import date
        from decimal import Decimal

        from procure.contracts.models import Contract
        from procure.timeutil import utcnow

        for tender, bid in pairs:
            db.session.add(Contract(
                number=f"HT-T-{tender.id}", project_id=tender.project_id, tender_id=tender.id, bid_id=bid.id,
                department_id=tender.department_id, organization_id=bid.organization_id, title="合同",
                service_content="服务", amount=Decimal("100.00"), period_start=date(2026, 1, 1),
                period_end=date(2026, 12, 31), awarded_at=utcnow(), sign_due_on=date(2026, 2, 1),
                created_by_id=tender.created_by_id))
        db.session.flush()
        self._milestones(db)
        self._payments(db)

    def _milestones(self, db):
        """A milestone per contract, each with a report (issue 11, delivery)."""
        from datetime import date

        from procure.contracts.models import Contract, Milestone
        from procure.delivery.models import MilestoneReport

        for contract in db.session.scalars(select(Contract).order_by(Contract.id)):
            ms = Milestone(contract_id=contract.id, position=0, title="第一阶段", due_on=date(2026, 6, 1),
                           deliverables="记录")
            db.session.add(ms)
            db.session.flush()
            db.session.add(MilestoneReport(milestone_id=ms.id, contract_id=contract.id,
                                           organization_id=contract.organization_id, actuals=[],
                                           created_by_id=contract.created_by_id))
        db.session.flush()

    def _acceptances(self, db, ev1, ev2):
        """An acceptance per contract (issue 11), each with an evaluator of its own."""
        from procure.acceptance.models import Acceptance, AcceptanceEvaluator
        from procure.contracts.models import Contract

        for contract, ev in zip(db.session.scalars(select(Contract).order_by(Contract.id)), (ev1, ev2), strict=False):
            acc = Acceptance(contract_id=contract.id, organization_id=contract.organization_id,
                             created_by_id=contract.created_by_id)
            db.session.add(acc)
            db.session.flush()
            db.session.add(AcceptanceEvaluator(acceptance_id=acc.id, user_id=ev.id,
                                               assigned_by_id=contract.created_by_id))
        db.session.flush()

    def _payments(self, db):
        """A payment (requested) on each contract's one installment."""
        from decimal import Decimal

        from procure.contracts.models import Contract, Installment
        from procure.payments.models import Payment

        for c in self.rows(Contract):
            inst = Installment(contract_id=c.id, position=0, share=Decimal("100"), amount=c.amount,
                               releases_on="acceptance")
            db.session.add(inst)
            db.session.flush()
            db.session.add(Payment(contract_id=c.id, installment_id=inst.id, organization_id=c.organization_id,
                                   department_id=c.department_id, amount=c.amount, steps=["officer", "finance"],
                                   requested_by_id=c.created_by_id))
        db.session.flush()

    def rows(self, model) -> list:
        return list(self.db.session.scalars(select(model)))


def assert_filter_matches_check(world: World, action: str, model=None) -> set:
    """For every user, ``visible`` returns exactly the objects ``can`` admits. Returns the
    distinct visible sets (so a caller can see the data was not trivial)."""
    model = model or RULES[action].model
    rows = world.rows(model)
    assert rows, f"the generated data has no {model.__name__} rows"
    seen = set()
    for user in world.users:
        listed = set(world.db.session.scalars(visible(user, action, model)))
        admitted = {obj for obj in rows if can(user, action, obj)}
        assert listed == admitted, (
            f"{action}: {user.username} ({user.role}) — filter only: {sorted(o.id for o in listed - admitted)}, "
            f"check only: {sorted(o.id for o in admitted - listed)}")
        seen.add(frozenset(o.id for o in listed))
    return seen


@pytest.fixture()
def world(make, db) -> World:
    return World(make, db)


def test_the_registry_has_rules_with_filters():
    assert {"project.view", "organization.view", "base.view", "job.view", "document.view_own", "notice.own",
            "account.change_password", "organization.users.view", "tender.view", "tender.manage",
            "tender.evaluate", "bid.view", "bid.view_own", "bid.edit", "challenge.view"} <= set(FILTERED)


@pytest.mark.parametrize("action", sorted(RULES))
def test_every_object_rule_can_be_listed(action):
    """A rule with an object scope names its model and has a list filter, so it is covered
    by the agreement test below (a new rule is covered automatically)."""
    rule = RULES[action]
    if rule.scope is not None or rule.sealed is not None:
        assert rule.model is not None, f"{action}: define(..., model=<the objects' class>)"
        assert rule.has_filter, f"{action}: its scope has a check without a list filter"


@pytest.mark.parametrize("action", FILTERED)
def test_filter_and_check_agree(world, action):
    seen = assert_filter_matches_check(world, action)
    assert len(seen) >= 2, f"{action}: every user sees the same objects; the data proves nothing"


def test_the_filters_say_what_the_rules_mean(world):
    """Spot checks that the agreement above is about the right objects."""
    officer, finance, org_user = world.officers[0], world.users[6], world.users[8]
    assert finance.role == Role.FINANCE and org_user.role == Role.ORG

    def ids(user, action, model):
        return {o.id for o in world.db.session.scalars(visible(user, action, model))}

    mine = {p.id for p in world.projects if p.department_id == officer.department_id}
    assert ids(officer, "project.view", Project) == mine
    assert ids(finance, "project.view", Project) == {p.id for p in world.projects}
    # an organization's staff: the projects their organization holds a contract for
    from procure.contracts.models import Contract

    held = {c.project_id for c in world.rows(Contract) if c.organization_id == org_user.organization_id}
    assert held and ids(org_user, "project.view", Project) == held
    assert ids(org_user, "organization.view", Organization) == {org_user.organization_id}
    assert ids(officer, "organization.view", Organization) == {o.id for o in world.rows(Organization)}
    assert ids(org_user, "base.view", IncubationBase) == {
        b.id for b in world.rows(IncubationBase) if b.operator_id == org_user.organization_id}
    assert ids(officer, "account.change_password", User) == {officer.id}
    disabled = world.users[-1]
    assert disabled.status == UserStatus.DISABLED and ids(disabled, "notice.own", Notice) == set()


def test_an_object_given_as_none_is_refused_unless_the_role_alone_suffices(world):
    org_user, admin = world.users[8], world.users[0]
    assert can(org_user, "organization.view") and can(org_user, "organization.view", NO_OBJECT)
    assert not can(org_user, "organization.view", None)
    assert can(admin, "organization.view", None)
    assert not can(None, "organization.view")


def test_visible_narrows_a_select_and_a_count(world):
    officer = world.officers[2]
    stmt = select(Project).where(Project.state == ProjectState.SUBMITTED)
    assert set(world.db.session.scalars(visible(officer, "project.view", stmt))) == {world.projects[4]}
    count = select(func.count()).select_from(Project)
    assert world.db.session.scalar(visible(officer, "project.view", count, Project)) == 4


def test_a_rule_without_a_filter_cannot_list():
    permissions.define("test.check_only", {Role.ADMIN}, lambda user, obj: True, model=Project)
    try:
        with pytest.raises(TypeError):
            visible(None, "test.check_only", Project)
    finally:
        RULES.pop("test.check_only")


# --- grants -------------------------------------------------------------------------------


@pytest.fixture()
def evaluate_rule():
    """A tender-like rule on projects: an evaluator assigned to it who declared no conflict."""
    permissions.define("test.evaluate", {Role.EVALUATOR, Role.OFFICER},
                       permissions.role_in(Role.EVALUATOR) & permissions.granted("evaluator"), model=Project)
    yield "test.evaluate"
    RULES.pop("test.evaluate")


def test_grants_count_in_the_check_and_the_filter(world, evaluate_rule, make, db):
    ev1, ev2 = [x for x in world.users if x.role == Role.EVALUATOR]
    officer = world.officers[0]
    p1, p2, p3 = world.projects[:3]  # of officer's department

    def give(user, project):
        return permissions.grant(officer, user, project, "evaluator", permission="project.edit")

    for user, project in [(ev1, p1), (ev1, p2), (ev2, p1), (ev2, p3), (world.officers[1], p1)]:
        give(user, project)
    permissions.declare_conflict(ev1, p1, "evaluator", False)          # assigned, no conflict: admitted
    permissions.declare_conflict(ev2, p1, "evaluator", True)           # declared a conflict: refused
    permissions.declare_conflict(ev2, p3, "evaluator", False)
    permissions.revoke(officer, ev2, p3, "evaluator", permission="project.edit")  # revoked: refused
    permissions.declare_conflict(world.officers[1], p1, "evaluator", False)       # not an evaluator

    assert_filter_matches_check(world, evaluate_rule)
    listed = {u.id: set(db.session.scalars(visible(u, evaluate_rule, Project))) for u in world.users}
    assert listed[ev1.id] == {p1}          # p2: undeclared
    assert listed[ev2.id] == set()
    assert all(not v for k, v in listed.items() if k != ev1.id)
    assert can(ev1, evaluate_rule, p1) and not can(ev1, evaluate_rule, p2) and not can(ev2, evaluate_rule, p1)

    # a conflict found later takes the evaluator out of both, at once
    permissions.declare_conflict(ev1, p1, "evaluator", True)
    assert not can(ev1, evaluate_rule, p1)
    assert set(db.session.scalars(visible(ev1, evaluate_rule, Project))) == set()
    assert_filter_matches_check(world, evaluate_rule)

    # granted again after a revocation: a fresh declaration is needed
    give(ev2, p3)
    assert not can(ev2, evaluate_rule, p3)
    permissions.declare_conflict(ev2, p3, "evaluator", False)
    assert can(ev2, evaluate_rule, p3)
    assert_filter_matches_check(world, evaluate_rule)

    make.commit()
    on_projects = select(sa.cast(Grant.id, sa.String)).where(Grant.object_type == "projects")  # not the tenders'
    actions = db.session.scalars(select(audit.AuditEvent.action).where(
        audit.AuditEvent.object_type == "grants", audit.AuditEvent.object_id.in_(on_projects))).all()
    assert actions.count("grant.create") == 6 and actions.count("grant.revoke") == 1
    assert actions.count("grant.declare") == 6


def test_grants_are_given_only_with_the_permission_and_declared_only_by_the_grantee(world, evaluate_rule):
    ev1, ev2 = [x for x in world.users if x.role == Role.EVALUATOR]
    officer, stranger = world.officers[0], world.officers[2]  # stranger: another department
    p1 = world.projects[0]
    with pytest.raises(NotPermitted):
        permissions.grant(stranger, ev1, p1, "evaluator", permission="project.edit")
    with pytest.raises(NotPermitted):
        permissions.declare_conflict(ev1, p1, "evaluator", False)  # no grant
    permissions.grant(officer, ev1, p1, "evaluator", permission="project.edit")
    with pytest.raises(NotPermitted):
        permissions.declare_conflict(ev2, p1, "evaluator", False)  # someone else's grant
    permissions.declare_conflict(ev1, p1, "evaluator", False)
    with pytest.raises(Conflict):
        permissions.declare_conflict(ev1, p1, "evaluator", False)  # already declared
    permissions.declare_conflict(ev1, p1, "evaluator", True)
    with pytest.raises(Conflict):
        permissions.declare_conflict(ev1, p1, "evaluator", False)  # a conflict is final
    row = world.db.session.scalar(select(Grant).where(Grant.user_id == ev1.id, Grant.object_type == "projects"))
    assert row.has_conflict is True and row.conflict_declared_at is not None


def test_a_grant_row_needs_a_complete_declaration(world, db):
    ev = [x for x in world.users if x.role == Role.EVALUATOR][0]
    db.session.add(Grant(user_id=ev.id, object_type="projects", object_id="1", kind="evaluator", has_conflict=False))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


# --- sealed ---------------------------------------------------------------------------------


class _TestBase(DeclarativeBase):
    metadata = sa.MetaData()


class SealedThing(_TestBase):
    """A test-only model of sealed content (a bid): readable only after ``opens_at``."""

    __tablename__ = "test_sealed_things"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int | None] = mapped_column()
    opens_at: Mapped[datetime | None] = mapped_column()
    price: Mapped[str] = mapped_column(sa.String(20))


T0 = datetime(2026, 6, 1, 9, 0)


@pytest.fixture()
def sealed(world, db):
    SealedThing.__table__.create(db.engine)
    clock = {"now": T0}
    permissions.define("test.sealed.read", {Role.ADMIN, Role.OFFICER},
                       permissions.ADMIN | permissions.own_department(), model=SealedThing,
                       sealed_until=permissions.sealed_until("opens_at", now=lambda: clock["now"]))
    d1, d2 = world.deps[0].id, world.deps[1].id
    things = [SealedThing(department_id=d1, opens_at=T0 - timedelta(hours=1), price="1.00"),  # opened
              SealedThing(department_id=d1, opens_at=T0 + timedelta(hours=1), price="2.00"),  # sealed
              SealedThing(department_id=d1, opens_at=None, price="3.00"),                     # no time: sealed
              SealedThing(department_id=d2, opens_at=T0, price="4.00")]                       # opens now
    db.session.add_all(things)
    db.session.flush()
    yield clock, things
    RULES.pop("test.sealed.read")
    db.session.rollback()
    db.session.remove()
    SealedThing.__table__.drop(db.engine)


def test_sealed_excludes_the_admin_before_opening_and_admits_after(world, sealed, db):
    clock, (opened, later, untimed, now_) = sealed
    action = "test.sealed.read"
    admin, officer = world.users[0], world.officers[0]

    def listed(user):
        return set(db.session.scalars(visible(user, action, SealedThing)))

    assert listed(admin) == {opened, now_}
    assert not can(admin, action, later) and not can(admin, action, untimed)
    assert listed(officer) == {opened}
    assert_filter_matches_check(world, action)

    clock["now"] = T0 + timedelta(hours=1)  # the opening time of ``later`` comes
    assert listed(admin) == {opened, later, now_}
    assert can(admin, action, later) and can(officer, action, later)
    assert not can(admin, action, untimed)
    assert_filter_matches_check(world, action)


def test_sealed_by_attribute_name_uses_the_clock(world, sealed, db):
    """``sealed_until="opens_at"`` (the usual spelling) seals until the real now."""
    _clock, (opened, later, untimed, now_) = sealed
    later.opens_at = datetime(2999, 1, 1)
    db.session.flush()
    permissions.define("test.sealed.name", {Role.ADMIN}, model=SealedThing, sealed_until="opens_at")
    try:
        admin = world.users[0]
        assert set(db.session.scalars(visible(admin, "test.sealed.name", SealedThing))) == {opened, now_}
        assert not can(admin, "test.sealed.name", later)
        assert can(admin, "test.sealed.name")  # the role may read sealed things once open
        assert_filter_matches_check(world, "test.sealed.name")
    finally:
        RULES.pop("test.sealed.name")


def test_sealed_fields_are_declared_per_object_type():
    try:
        permissions.seal("test_sealed_things", {"price"})
        permissions.seal("test_sealed_things", ["file_hash"])
        assert permissions.sealed_fields("test_sealed_things") == {"price", "file_hash"}
        assert permissions.SEALED_FIELDS["test_sealed_things"] == {"price", "file_hash"}
        assert permissions.sealed_fields("projects") == frozenset()
    finally:
        permissions.SEALED_FIELDS.pop("test_sealed_things", None)


# --- dashboard queues -------------------------------------------------------------------------


def test_queues_name_defined_permissions():
    from procure.queues import QUEUES

    assert QUEUES
    for q in QUEUES:
        assert q.action in RULES, q.key
        assert not hasattr(q, "roles"), "queues ask permissions, not role sets"


def test_queues_are_shown_to_who_holds_the_permission_and_count_with_its_filter(world, app):
    from procure.queues import QUEUES, queues_for

    with app.test_request_context():
        for user in world.users:
            shown = {item["queue"].key: item["count"] for item in queues_for(user)}
            for q in QUEUES:
                assert (q.key in shown) == (can(user, q.action) and (q.shown is None or q.shown(user))), \
                    (q.key, user.role)
                if q.key in shown and q.counter is None:
                    rows = world.rows(q.model)
                    if q.where is not None:
                        keep = set(world.db.session.scalars(select(q.model).where(q.where(user))))
                        rows = [r for r in rows if r in keep]
                    assert shown[q.key] == sum(1 for r in rows if can(user, q.action, r)), (q.key, user.username)
    finance, org_user, admin = world.users[6], world.users[8], world.users[0]
    with app.test_request_context():
        assert {i["queue"].key: i["count"] for i in queues_for(finance)}["budget.check"] == 2
        org_counts = {i["queue"].key: i["count"] for i in queues_for(org_user)}
        assert org_counts["org.users"] == 2 and "budget.check" not in org_counts
        assert "org.users" not in {i["queue"].key for i in queues_for(admin)}


def test_a_scope_through_a_relationship(world):
    """``related``: jobs requested by someone of the user's department (a bid's tender, a
    contract's project later)."""
    permissions.define("test.department_jobs", {Role.OFFICER, Role.FINANCE},
                       permissions.related("requested_by", permissions.own_department()), model=Job)
    try:
        seen = assert_filter_matches_check(world, "test.department_jobs")
        assert len(seen) >= 2
        officer = world.officers[0]
        mine = {j.id for j in world.rows(Job) if j.requested_by is not None
                and j.requested_by.department_id == officer.department_id}
        assert mine and {j.id for j in world.db.session.scalars(visible(officer, "test.department_jobs", Job))} == mine
    finally:
        RULES.pop("test.department_jobs")


def test_bids_are_sealed_from_everyone_but_their_organization(world, db):
    """Before the opening nobody but the bidding organization sees a bid — admin included;
    after it, entered bids (not drafts, not withdrawals) to staff and to the evaluators who
    declared no conflict; bid contents to an evaluator only after declaring."""
    from procure.tenders.models import Bid, Tender

    t = world.tenders
    admin, finance, org0_user = world.users[0], world.users[6], world.users[8]
    ev1, ev2 = [x for x in world.users if x.role == Role.EVALUATOR]
    officer_a, officer_b = world.officers[0], world.officers[2]  # of the opened / the sealed tender

    def ids(user, action, model):
        return {o.id for o in db.session.scalars(visible(user, action, model))}

    opened_entered = {b.id for b in t["bids"][:2]}
    assert ids(admin, "bid.view", Bid) == opened_entered
    assert ids(finance, "bid.view", Bid) == opened_entered
    assert ids(officer_b, "bid.view", Bid) == set()  # own department's tender still sealed
    assert ids(officer_a, "bid.view", Bid) == opened_entered
    assert ids(ev1, "bid.view", Bid) == opened_entered  # declared no conflict
    assert ids(ev2, "bid.view", Bid) == set()  # opened tender undeclared; the other sealed
    assert not can(admin, "bid.view", t["bids"][4])  # submitted, sealed
    assert ids(org0_user, "bid.view_own", Bid) == {t["bids"][0].id, t["bids"][4].id}
    assert ids(ev1, "tender.evaluate", Tender) == {t["opened"].id}
    assert ids(ev2, "tender.evaluate", Tender) == set()
    assert ids(ev2, "tender.view", Tender) == {t["opened"].id, t["sealed"].id}  # assigned: names, to declare
    assert ids(officer_a, "tender.manage", Tender) == {t["opened"].id, t["draft"].id}
    assert ids(org0_user, "tender.view", Tender) == set()
