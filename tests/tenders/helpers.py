"""Shared set-up of the tendering part A tests: an officer with an approved project,
eligible organizations with staff, a call published through the services."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update

from procure.organizations.models import AnnualReport, ReportStatus
from procure.organizations.services import annual_report_due, last_due_year
from procure.roles import Role
from procure.tenders import bidding, services  # noqa: F401 - the rules
from procure.tenders.bidding import BidData, CriterionData, LineData, TenderData
from procure.tenders.models import Tender
from procure.timeutil import to_local, utcnow

PROPOSAL = "秘密服务方案 QX-PROPOSAL-7731"


def eligible_org(make, name: str):
    today = to_local(utcnow()).date()
    org = make.organization(name, registration_date=date(today.year - 3, 1, 1))
    year = last_due_year(today)
    make.db.session.add(AnnualReport(organization_id=org.id, year=year, due_date=annual_report_due(year),
                                     status=ReportStatus.FILED, filed_on=annual_report_due(year) - timedelta(days=30)))
    make.db.session.flush()
    return org, make.user(Role.ORG, organization=org)


def world(make, *, ceiling="100000.00", orgs=("同心养老服务中心", "阳光社工事务所", "康乐助残服务社")):
    officer = make.user(Role.OFFICER)
    appr = make.appropriation(officer.department)
    project = make.approved_project(officer, appr, amount="80000.00", ceiling=ceiling)
    bidders = [eligible_org(make, n) for n in orgs]
    return officer, project, bidders


def tender_data(project, *, method="public_tender", published=None, deadline=None, opening=None, **kw):
    published = published or utcnow() + timedelta(minutes=1)
    deadline = deadline or bidding.earliest_deadline(method, published) + timedelta(hours=1)
    data = dict(project_id=project.id, title="居家养老服务采购", method=method, published_at=published,
                deadline_at=deadline, opening_at=opening or deadline, description="服务内容", price_weight="30",
                criteria=[CriterionData("服务方案", "50", "50"), CriterionData("团队经验", "20", "20")])
    data.update(kw)
    return TenderData(**data)


def published_tender(make, officer, project, **kw):
    tender = bidding.create_tender(officer, tender_data(project, **kw))
    return bidding.publish_tender(officer, tender)


def bid_data(price="60000.00", proposal=PROPOSAL, admin="5000.00"):
    rest = (bidding.Decimal(price) - bidding.Decimal(admin)).quantize(bidding.Decimal("0.01"))
    return BidData(price=price, proposal=proposal,
                   breakdown=[LineData("personnel", str(rest), "社工"), LineData("admin", admin, "管理")])


def submitted_bid(tender, user, price="60000.00", proposal=PROPOSAL):
    bid = bidding.save_bid(user, tender, bid_data(price, proposal))
    return bidding.submit_bid(user, bid)


def move_times(db, tender, *, deadline=None, opening=None):
    """Put a tender's deadline/opening (and its next event) where a test needs them."""
    values = {"published_at": min(x for x in (deadline, opening, tender.published_at) if x is not None)
              - timedelta(days=30)}
    if deadline is not None:
        values["deadline_at"] = deadline
    if opening is not None:
        values["opening_at"] = opening
        values["next_event_at"] = opening
    db.session.execute(update(Tender).where(Tender.id == tender.id).values(**values))
    db.session.refresh(tender)
