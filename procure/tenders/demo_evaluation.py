"""Demo data of the evaluation (issue 9 part B), for the coordinator to call from the
tenders demo: ``extend(ctx)`` after the projects demo (it needs the catalogue, the
appropriations and the demo users). It adds an evaluator pool for 养老服务 (the demo's
"expert" and six more), and three tenders whose bids were opened some days ago:

* one under evaluation: committee drawn and declared (one member declared a conflict and
  a backup was called), bids qualified but one above the ceiling, scores waiting;
* one awarded, publicity over, challenge window running, with an open challenge;
* one final: the window closed with no challenge, the project awarded.

Bids are sealed like real ones (content.seal_bundle) and opened by setting the opening
fields directly (part A's opening service does that in the running system).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from .. import policy
from ..auth import services as accounts
from ..auth.models import User
from ..extensions import db
from ..organizations.models import AnnualReport, Organization, OrgKind, ReportStatus
from ..organizations.services import annual_report_due, last_due_year
from ..projects import services as ps
from ..projects.models import Project, ProjectState, ServiceCategory
from ..roles import Role
from ..timeutil import to_local, utcnow
from . import award as aw
from . import evaluation as ev
from .content import ensure_data_key, seal_bundle
from .evaluators import EvaluatorField
from .models import Bid, BidState, Tender, TenderCriterion, TenderState

EVALUATORS = [("expert2", "刘洋（评审专家）", True), ("expert3", "孙丽（评审专家）", True),
              ("expert4", "周强（评审专家）", True), ("expert5", "吴敏（评审专家）", True),
              ("expert6", "郑华（评审专家）", True), ("expert7", "黄磊（采购人代表）", False)]

TENDERS = [
    # title, ceiling, prices of the bids, final state
    ("渝中区社区居家养老上门服务采购", "300000.00", ["268000.00", "289500.00", "276000.00", "310000.00"], "evaluating"),
    ("江北区老年人助餐服务采购", "260000.00", ["238000.00", "251000.00", "245500.00"], "challenged"),
    ("渝中区失能老人照护培训服务采购", "200000.00", ["176000.00", "188000.00", "192500.00"], "final"),
]
SCORES = [("服务方案", "40", "40"), ("团队与经验", "30", "30")]


def _eligible_orgs(ctx, n: int) -> list[Organization]:
    """``n`` demo organizations eligible today (registered, annual report filed)."""
    today = to_local(utcnow()).date()
    out = []
    for org in db.session.scalars(select(Organization).where(Organization.kind != OrgKind.FILED)
                                  .order_by(Organization.id)):
        if not aw.eligibility(_any_tender_rules(), org, today):
            out.append(org)
        if len(out) == n:
            return out
    year = last_due_year(today)
    while len(out) < n:  # not enough in the registry sample: eligible demo organizations
        org = Organization(name=f"重庆市示范社会工作服务中心{len(out) + 1}号", kind=OrgKind.SERVICE_ORG,
                           registration_date=date(2016, 5, 1))
        db.session.add(org)
        db.session.flush()
        db.session.add(AnnualReport(organization_id=org.id, year=year, due_date=annual_report_due(year),
                                    status=ReportStatus.FILED, filed_on=date(year + 1, 3, 1)))
        db.session.flush()
        out.append(org)
    return out


def _any_tender_rules() -> Tender:
    """A tender (not stored) with the default eligibility rules."""
    return Tender(min_rating=None, min_years_registered=None, require_annual_report=True, require_good_credit=True,
                  bar_failed_grade=True, admit_filed=False)


def _pool(ctx, category: ServiceCategory) -> list[User]:
    admin, users = ctx["admin"], ctx["users"]
    pool = [(users["expert"], True)]
    for username, name, expert in EVALUATORS:
        user = users.get(username) or accounts.create_user(admin, accounts.UserData(
            username=username, email=f"{username}@example.org", name=name, role=Role.EVALUATOR, locale="zh_CN"),
            "procure2026")
        pool.append((user, expert))
    for user, expert in pool:
        db.session.add(EvaluatorField(user_id=user.id, category_id=category.id, is_expert=expert))
    db.session.flush()
    return [u for u, _e in pool]


def _opened_tender(ctx, officer, category, title, ceiling, prices, orgs, days_ago: int) -> Tender:
    year = ctx["fiscal_years"][-1]
    finance = ctx["users"]["finance"]
    project = ps.create_project(officer, ps.ProjectData(
        title=f"{year}年{title}".replace("采购", "项目"), category_id=category.id, fiscal_year=year,
        service_area="重庆市渝中区",
        target_group="高龄、独居、失能老人", budget_ceiling=ceiling, method="public_tender",
        period_start=date(year, 3, 1), period_end=date(year, 12, 31),
        targets=[ps.TargetData("服务对象人数", "人", "300", True)]))
    ps.submit_project(officer, project)
    appropriation = ctx["appropriations"][(year, 0, "general")]
    ps.approve_project(finance, project, [(appropriation.id, ceiling)], note="预算审核通过")
    ps.advance_project(officer, project, ProjectState.TENDERING)
    opening = utcnow() - timedelta(days=days_ago)
    tender = Tender(project_id=project.id, department_id=project.department_id, method=project.method,
                    state=TenderState.CLOSED, title=f"{year}年{title}", description="详见采购文件。",
                    created_by_id=officer.id,
                    price_weight=Decimal("30.00"), published_at=opening - timedelta(days=25), deadline_at=opening,
                    opening_at=opening, opened_at=opening)
    tender.criteria = [TenderCriterion(position=i, name=n, weight=Decimal(w), max_score=Decimal(m))
                       for i, (n, w, m) in enumerate(SCORES)] + [
        TenderCriterion(position=len(SCORES), name="价格", weight=Decimal("30.00"), max_score=Decimal("30"),
                        is_price=True)]
    ensure_data_key(tender)
    db.session.add(tender)
    db.session.flush()
    for i, (org, price) in enumerate(zip(orgs, prices, strict=True)):
        content = {"price": price, "proposal": f"{org.name}服务方案", "breakdown": [], "attachments": []}
        sealed, digest = seal_bundle(tender, org.id, content)
        db.session.add(Bid(tender_id=tender.id, organization_id=org.id, state=BidState.OPENED, sealed_content=sealed,
                           sealed_sha256=digest, submitted_at=opening - timedelta(days=1, hours=i),
                           receipt_no=f"{opening:%Y%m%d}-{tender.id:04d}-{i + 1:02d}", created_by_id=officer.id,
                           opened_at=opening, price=Decimal(price)))
    db.session.flush()
    return tender


def _seed_seating(tender: Tender, user, *, after: int = 0) -> str | None:
    """A draw seed that seats ``user`` on the committee (past the first ``after`` seats).

    The demo tells its visitors to sign in as "expert" and score; a seed drawn at random
    would seat that account on some loads only. The draw itself stays the real one
    (``compute_draw`` over the real pool, the seed recorded in the audit trail)."""
    comp = ev.composition(tender)
    pool = ev.evaluator_pool(db.session.get(Project, tender.project_id).category_id)
    for i in range(500):
        seed = hashlib.sha256(f"procure demo {tender.id} {i}".encode()).hexdigest()[:32]  # as token_hex(16)
        if user.id in ev.compute_draw(pool, seed, comp.size, comp.min_experts)["members"][after:]:
            return seed
    return None


def _start(officer, tender: Tender, *, conflict: bool = False, seat=None) -> None:
    """Draw (seating ``seat`` if given), declare (with one conflict: the next backup is
    called), review, start."""
    ev.draw_committee(officer, tender, seed=_seed_seating(tender, seat, after=1 if conflict else 0)
                      if seat is not None else None)
    if conflict:
        ev.declare(ev.members_of(tender)[0].user, tender, True, "本人曾在其中一家投标机构兼职（演示）")
    for m in ev.members_of(tender, active_only=True):
        ev.declare(m.user, tender, False)
    for bid in sorted(tender.bids, key=lambda b: b.id):
        forced = ev.forced_disqualification(tender, bid)
        ev.review_bid(officer, tender, bid, not forced, forced)
    ev.start_evaluation(officer, tender)


def _evaluate(officer, tender: Tender) -> None:
    _start(officer, tender)
    crits = ev.scoring_criteria(tender)
    bids = [b for b in ev.scored_bids(tender)]
    for k, m in enumerate(ev.members_of(tender, active_only=True)):
        values = {(b.id, c.id): str(Decimal(c.max_score) * Decimal("0.7") + (i + k) % 4 + j)
                  for i, b in enumerate(bids) for j, c in enumerate(crits)}
        ev.save_scores(m.user, tender, values, submit=True)
    ev.rank_bids(officer, tender)


def _backdate_award(tender: Tender, days_ago: int) -> None:
    """Move the award notice ``days_ago`` back (the demo's clock), with its windows."""
    mp = policy.method_policy(tender.method)
    at = utcnow() - timedelta(days=days_ago)
    tender.award_notice_at = at
    tender.publicity_ends_at = aw.working_days_after(at, mp.publicity_working_days)
    tender.challenge_ends_at = aw.working_days_after(at, mp.challenge_working_days)
    tender.next_event_at = tender.publicity_ends_at
    db.session.flush()


def extend(ctx) -> None:
    officer = ctx["users"]["officer"]
    category = db.session.scalar(select(ServiceCategory).where(ServiceCategory.code == "A01"))
    _pool(ctx, category)
    orgs = _eligible_orgs(ctx, 4)
    tenders = []
    for days, (title, ceiling, prices, end) in zip((3, 6, 20), TENDERS, strict=True):
        tender = _opened_tender(ctx, officer, category, title, ceiling, prices, orgs[:len(prices)], days)
        tenders.append((tender, end))
    # Under evaluation: a conflict and a backup; one bid above the ceiling; scores waiting.
    first = tenders[0][0]
    _start(officer, first, conflict=True, seat=ctx["users"]["expert"])
    # Awarded, with an open challenge from the second-ranked bidder.
    second = tenders[1][0]
    _evaluate(officer, second)
    aw.award_bid(officer, second, aw.next_in_line(second))
    _backdate_award(second, 3)
    aw.end_publicity(second)
    loser = next(b for b in second.bids if b.id != second.awarded_bid_id)
    staff = db.session.scalar(select(User).where(User.role == Role.ORG, User.organization_id == loser.organization_id))
    if staff is None:
        staff = accounts.create_user(ctx["admin"], accounts.UserData(
            username=f"org{loser.organization_id}", email=f"org{loser.organization_id}@example.org",
            name=f"{loser.organization.name}联系人", role=Role.ORG, locale="zh_CN",
            organization_id=loser.organization_id), "procure2026")
    aw.lodge_challenge(staff, second, "我方服务团队具有十年助餐服务经验，团队与经验得分明显偏低，请复核评分。")
    # Final: the award backdated beyond its challenge window, no challenge.
    third = tenders[2][0]
    _evaluate(officer, third)
    aw.award_bid(officer, third, aw.next_in_line(third))
    _backdate_award(third, 20)
    aw.end_publicity(third)
    aw.end_challenge_window(third)
    ctx["evaluation_tenders"] = [t for t, _end in tenders]
