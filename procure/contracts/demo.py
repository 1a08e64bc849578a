"""Demo contracts: the committed money of the demo comes from real contracts, drafted from
final awards through the services, rendered, and signed by both parties (which commits
the money and publishes the contract on the portal).

* this year: the contract of the demo's final award (the tenders demo's evaluation part);
* the two earlier years: the elder-care project of each year, whose call is recorded as
  final (rows, as the evaluation demo records opened calls) and then contracted like any
  other.

Their delivery (reports, payments, acceptance, closing) is in procure/delivery/demo.py."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from .. import signing
from ..auth import services as accounts
from ..auth.models import User
from ..demo import DEMO_PASSWORD
from ..extensions import db
from ..jobs.services import run_job
from ..projects import services as ps
from ..projects.models import Project, ProjectState
from ..roles import Role
from ..tenders.content import ensure_data_key, seal_bundle
from ..tenders.models import Bid, BidState, Tender, TenderCriterion, TenderState
from ..timeutil import utcnow
from . import services as cs
from .models import Contract
from .rendering import build_version_pdf

ORDER = 80

CONTENT = ("为服务对象提供上门探访、助餐、助洁及精神慰藉服务，建立服务档案，每月报送服务进度。\n"
           "乙方须配备持证社会工作者，服务期内不得分包、转包。")


def _org_user(ctx, org_id: int) -> User:
    user = db.session.scalar(select(User).where(User.role == Role.ORG, User.organization_id == org_id)
                             .order_by(User.id))
    if user is None:
        user = accounts.create_user(ctx["admin"], accounts.UserData(
            username=f"org{org_id}", email=f"org{org_id}@example.org", name="合同签署人", role=Role.ORG,
            locale="zh_CN", organization_id=org_id), DEMO_PASSWORD)
    return user


def _schedule(year: int) -> list[cs.InstallmentData]:
    return [cs.InstallmentData("30", "milestone", "项目启动与需求评估", date(year, 4, 30), "服务对象档案、实施方案"),
            cs.InstallmentData("40", "milestone", "中期服务", date(year, 8, 31), "中期进度报告、服务记录"),
            cs.InstallmentData("30", "acceptance")]


def _contract(ctx, officer: User, tender: Tender, year: int) -> Contract:
    """Draft, render (here, as the worker would) and sign by both parties."""
    data = cs.DraftData(period_start=date(year, 3, 1), period_end=date(year, 12, 31), service_content=CONTENT,
                        installments=_schedule(year))
    contract = cs.draft_contract(officer, tender, data)
    db.session.commit()
    run_job(contract.current_version.job_id, build_version_pdf)
    db.session.expire_all()
    contract = db.session.get(Contract, contract.id)
    cs.sign_contract(_org_user(ctx, contract.organization_id), contract, DEMO_PASSWORD)
    cs.sign_contract(officer, contract, DEMO_PASSWORD)
    db.session.flush()
    return contract


def breakdown(price: Decimal, admin_share: str = "0.08") -> list[dict]:
    """A bid's budget breakdown (personnel, activities, admin) summing to ``price``: the
    contract's approved breakdown (delivery's budget lines) is copied from it."""
    admin = (price * Decimal(admin_share)).quantize(Decimal("0.01"))
    activities = (price * Decimal("0.30")).quantize(Decimal("0.01"))
    return [{"category": "personnel", "amount": str(price - admin - activities), "note": "社工及护理员"},
            {"category": "activities", "amount": str(activities), "note": "服务活动"},
            {"category": "admin", "amount": str(admin), "note": "项目管理"}]


def _past_award(officer: User, project: Project, org_id: int, opening=None) -> Tender:
    """A call recorded as final: published, opened (by default on 1 February of the
    project's year), awarded to ``org_id`` at 95% of the allocation, the windows long
    over; the bid carries a budget breakdown."""
    year = project.fiscal_year
    opening = opening or utcnow().replace(year=year, month=2, day=1, hour=2, minute=0, second=0, microsecond=0)
    price = (project.allocations[0].allocated * Decimal("0.95")).quantize(Decimal("0.01"))
    ps.advance_project(officer, project, ProjectState.TENDERING)
    tender = Tender(project_id=project.id, department_id=project.department_id, method=project.method,
                    state=TenderState.EVALUATING, title=f"{project.title}采购公告", description="详见采购文件。",
                    created_by_id=officer.id, price_weight=Decimal("30.00"), published_at=opening - timedelta(days=25),
                    deadline_at=opening, opening_at=opening, opened_at=opening)
    tender.criteria = [TenderCriterion(position=0, name="服务方案", weight=Decimal("70.00"), max_score=Decimal("70")),
                       TenderCriterion(position=1, name="价格", weight=Decimal("30.00"), max_score=Decimal("30"),
                                       is_price=True)]
    ensure_data_key(tender)
    db.session.add(tender)
    db.session.flush()
    content = {"price": str(price), "proposal": "服务方案（见投标文件）", "breakdown": breakdown(price),
               "attachments": []}
    sealed, digest = seal_bundle(tender, org_id, content)
    bid = Bid(tender_id=tender.id, organization_id=org_id, state=BidState.AWARDED, sealed_content=sealed,
              sealed_sha256=digest, submitted_at=opening - timedelta(days=1),
              receipt_no=f"{opening:%Y%m%d}-{tender.id:04d}-01", created_by_id=officer.id, opened_at=opening,
              price=price)
    db.session.add(bid)
    db.session.flush()
    tender.awarded_bid_id, tender.award_notice_at = bid.id, opening + timedelta(days=10)
    tender.state = TenderState.FINAL
    db.session.flush()
    ps.advance_project(officer, project, ProjectState.AWARDED)
    return tender


def load(ctx) -> None:
    signing.init_ca()  # the demo's own certificate authority (kept when one exists)
    officer = ctx["users"]["officer"]
    this_year = ctx["fiscal_years"][-1]
    final = next(t for t in ctx.get("evaluation_tenders", []) if t.state == TenderState.FINAL)
    _contract(ctx, officer, final, this_year)
    tongxin = ctx["users"]["tongxin"].organization_id
    for year in ctx["fiscal_years"][:-1]:
        project = db.session.scalar(select(Project).where(
            Project.fiscal_year == year, Project.department_id == officer.department_id,
            Project.state == ProjectState.APPROVED).order_by(Project.id))
        if project is not None:
            _contract(ctx, officer, _past_award(officer, project, tongxin), year)
