"""Demo calls for bids (part A): one open for bids with sealed bids from 同心养老 and 康乐
and a draft of 阳光 (on the abnormal-activity list: its submission is refused with the
reason), one opened (a call for project applications, two bids, the opening record), one
failed (流标: a single bid where competitive consultation needs three) with a re-tender
drafted, one cancelled.

Calls that have already opened were published through the services like any other;
their times are then moved into the past as if the weeks had gone by, and the opening
applied by the same code as the beat's."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select, update

from .. import sealing
from ..organizations.models import AnnualReport, Organization, ReportStatus
from ..organizations.services import annual_report_due, last_due_year
from ..projects.models import Project, ProjectState
from ..timeutil import to_local, utcnow
from . import bidding, demo_evaluation, events
from .bidding import BidData, CriterionData, LineData, TenderData
from .models import Tender

ORDER = 70

PROPOSALS = {
    "tongxin": "组建由持证社工、护理员组成的12人服务团队，为高龄独居老人提供每周两次上门探访、助餐、助洁服务。",
    "yangguang": "依托协会志愿者网络开展陪伴探访，配合专业社工开展个案管理与危机干预。",
    "kangle": "以康复训练与社区融合为核心，配备康复治疗师，建立个案档案，按月评估服务成效。",
}


def _ensure_key() -> None:
    if current_app.config.get("MASTER_KEY"):
        return
    sealing.init_key_file(sealing.key_file_path())


def _eligible(org: Organization) -> None:
    """Give a demo organization what the eligibility check needs (registered years ago,
    its latest annual report filed)."""
    today = to_local(utcnow()).date()
    if org.registration_date is None or org.registration_date > date(today.year - 2, 1, 1):
        org.registration_date = date(today.year - 5, 3, 1)
    year = last_due_year(today)
    from ..extensions import db

    if not db.session.scalar(select(AnnualReport.id).where(AnnualReport.organization_id == org.id,
                                                           AnnualReport.year == year)):
        db.session.add(AnnualReport(organization_id=org.id, year=year, due_date=annual_report_due(year),
                                    status=ReportStatus.FILED, filed_on=annual_report_due(year) - timedelta(days=20)))
    db.session.flush()


def _data(project: Project, method: str, **kw) -> TenderData:
    published = utcnow() + timedelta(minutes=1)
    deadline = bidding.earliest_deadline(method, published) + timedelta(days=2)
    deadline = deadline.replace(minute=0, second=0, microsecond=0)
    return TenderData(project_id=project.id, title=kw.pop("title", f"{project.title}采购公告"), method=method,
                      published_at=published, deadline_at=deadline, opening_at=deadline,
                      description="服务期一年，服务内容详见采购文件。投标人须具备相应的专业服务能力。",
                      price_weight="30", require_annual_report=True, require_good_credit=True,
                      criteria=[CriterionData("服务方案", "40", "40"), CriterionData("团队与经验", "20", "20"),
                                CriterionData("管理制度", "10", "10")], **kw)


def _bid(user, tender, price: str, *, submit: bool = True):
    admin = (bidding.Decimal(price) * bidding.Decimal("0.08")).quantize(bidding.Decimal("0.01"))
    activities = (bidding.Decimal(price) * bidding.Decimal("0.30")).quantize(bidding.Decimal("0.01"))
    personnel = bidding.Decimal(price) - admin - activities
    data = BidData(price=price, proposal=PROPOSALS[user.username],
                   breakdown=[LineData("personnel", str(personnel), "社工及护理员"),
                              LineData("activities", str(activities), "服务活动"),
                              LineData("admin", str(admin), "项目管理")])
    bid = bidding.save_bid(user, tender, data)
    return bidding.submit_bid(user, bid) if submit else bid


def _as_if_past(tender: Tender) -> None:
    """Move a published call's times into the past (the weeks went by) and open it."""
    from ..extensions import db

    now = utcnow()
    db.session.execute(update(Tender).where(Tender.id == tender.id).values(
        published_at=now - timedelta(days=25), deadline_at=now - timedelta(hours=2),
        opening_at=now - timedelta(hours=1), next_event_at=now - timedelta(hours=1)))
    db.session.refresh(tender)
    events.open_bids(tender, now - timedelta(minutes=59))


def load(ctx) -> None:
    from ..extensions import db

    _ensure_key()
    users = ctx["users"]
    officer = users["officer"]
    bidders = {name: users[name] for name in ("tongxin", "yangguang", "kangle")}
    for u in bidders.values():
        _eligible(db.session.get(Organization, u.organization_id))
    year = max(ctx["fiscal_years"])
    approved = db.session.scalars(select(Project).where(Project.state == ProjectState.APPROVED,
                                                        Project.fiscal_year == year,
                                                        Project.department_id == officer.department_id)
                                  .order_by(Project.id)).all()
    eldercare, incubator, rehab = approved[0], approved[1], approved[2]

    # Opened: a call for project applications (one bid suffices), two bids, the opening record.
    opened = bidding.publish_tender(officer, bidding.create_tender(officer, _data(eldercare, "application")))
    _bid(bidders["tongxin"], opened, "452000.00")
    _bid(bidders["kangle"], opened, "466000.00")
    _as_if_past(opened)

    # Failed (流标): consultation needs three bids, one came.
    failed = bidding.publish_tender(officer, bidding.create_tender(officer, _data(incubator, "consultation")))
    _bid(bidders["kangle"], failed, "330000.00")
    _as_if_past(failed)
    # ... and its re-tender, drafted.
    bidding.create_tender(officer, _data(incubator, "consultation", title=f"{incubator.title}采购公告（重新采购）"))

    # Cancelled before the opening.
    cancelled = bidding.publish_tender(officer, bidding.create_tender(officer, _data(rehab, "public_tender")))
    bidding.cancel_tender(officer, cancelled, "服务需求调整，本次采购取消，调整后重新发布")

    # Open for bids: sealed bids from 同心 and 康乐, a draft of 阳光, a clarification.
    open_call = bidding.publish_tender(officer, bidding.create_tender(
        officer, _data(rehab, "public_tender", title=f"{rehab.title}采购公告（第二次）")))
    _bid(bidders["tongxin"], open_call, "585000.00")
    _bid(bidders["kangle"], open_call, "579800.00")
    _bid(bidders["yangguang"], open_call, "590000.00", submit=False)
    bidding.clarify(officer, open_call, "服务对象范围包括持证残疾人及其家庭成员，其余要求不变。", affects_bids=False)
    ctx["tenders"] = {"opened": opened, "failed": failed, "cancelled": cancelled, "open": open_call}

    # Evaluation, award, challenge and a final award (procure/tenders/demo_evaluation.py).
    demo_evaluation.extend(ctx)
