"""Tenders whose bids are already opened (part A's opening service is not needed): rows
set through the models, the evaluator pool, eligible organizations, a committee that has
declared, scores — for the evaluation, award and challenge tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from procure.extensions import db
from procure.organizations.models import AnnualReport, ReportStatus
from procure.organizations.services import annual_report_due, last_due_year
from procure.projects.models import ProjectState
from procure.roles import Role
from procure.tenders import evaluation as ev
from procure.tenders.evaluators import EvaluatorField
from procure.tenders.models import BidState, TenderCriterion, TenderState
from procure.timeutil import to_local, utcnow


def eligible_org(make, name: str):
    """An organization eligible today: registered years ago, last annual report filed."""
    org = make.organization(name, registration_date=date(2015, 3, 1))
    year = last_due_year(to_local(utcnow()).date())
    db.session.add(AnnualReport(organization_id=org.id, year=year, due_date=annual_report_due(year),
                                status=ReportStatus.FILED, filed_on=date(year + 1, 1, 15)))
    db.session.flush()
    return org


def evaluators(make, category, n: int, experts: int | None = None) -> list:
    """``n`` evaluators covering ``category``; the first ``experts`` (default all) experts."""
    experts = n if experts is None else experts
    users = []
    for i in range(n):
        u = make.user(Role.EVALUATOR)
        db.session.add(EvaluatorField(user_id=u.id, category_id=category.id, is_expert=i < experts))
        users.append(u)
    db.session.flush()
    return users


@dataclass
class Opened:
    officer: object
    category: object
    project: object
    tender: object
    bids: list
    orgs: list
    pool: list = field(default_factory=list)

    def criterion(self, name):
        return next(c for c in self.tender.criteria if c.name == name)


def opened_tender(make, prices, *, names=None, ceiling="100000.00", pool: int = 7, experts=None,
                  criteria=None, price_weight="30.00") -> Opened:
    """A closed tender (bids opened an hour ago) of a project in tendering, with one
    opened bid per price and an evaluator pool of ``pool`` for its category."""
    officer = make.user(Role.OFFICER)
    category = make.category()
    project = make.project(officer, category=category, ceiling=ceiling)
    project.state = ProjectState.TENDERING
    opening = utcnow() - timedelta(hours=1)
    tender = make.tender(officer, project, state=TenderState.CLOSED, opening_at=opening)
    tender.opened_at = opening
    tender.price_weight = Decimal(price_weight)
    if criteria is not None:
        for c in list(tender.criteria):
            tender.criteria.remove(c)
        db.session.flush()
        tender.criteria = [TenderCriterion(position=i, name=n, weight=Decimal(w), max_score=Decimal(m))
                           for i, (n, w, m) in enumerate(criteria)] + [
            TenderCriterion(position=len(criteria), name="价格", weight=Decimal(price_weight),
                            max_score=Decimal("100"), is_price=True)]
    db.session.flush()
    names = names or [f"评审测试组织{chr(65 + i)}" for i in range(len(prices))]
    orgs = [eligible_org(make, n) for n in names]
    bids = [make.bid(tender, org, state=BidState.OPENED,
                     content={"price": str(p), "proposal": f"{org.name}的方案正文", "breakdown": [], "attachments": []})
            for org, p in zip(orgs, prices, strict=True)]
    users = evaluators(make, category, pool, experts) if pool else []
    return Opened(officer, category, project, tender, bids, orgs, users)


def committee(make, o: Opened, size=None, seed="fixed-seed"):
    """Draw the committee and have every member declare no conflict."""
    draw = ev.draw_committee(o.officer, o.tender, size, seed=seed)
    for m in ev.members_of(o.tender):
        ev.declare(m.user, o.tender, False)
    return draw


def evaluating(make, o: Opened, size=None):
    """Qualify every bid, draw and declare, start the evaluation."""
    committee(make, o, size)
    for b in o.bids:
        ev.review_bid(o.officer, o.tender, b, True)
    ev.start_evaluation(o.officer, o.tender)
    return ev.members_of(o.tender, active_only=True)


def score_all(o: Opened, members, table):
    """``table[member index][bid index]`` = {criterion name: score}; submits for all."""
    for mi, member in enumerate(members):
        values = {}
        for bi, bid in enumerate(o.bids):
            for name, score in table[mi][bi].items():
                values[(bid.id, o.criterion(name).id)] = score
        ev.save_scores(member.user, o.tender, values, submit=True)


def en(message) -> str:
    """A (lazy) message as it reads in English, for assertions on its words."""
    from flask_babel import force_locale

    with force_locale("en"):
        return str(message)
