"""The tendering tables refuse what the domain forbids, whatever the service does."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from procure import policy
from procure.projects.models import ProcurementMethod
from procure.roles import Role
from procure.tenders.models import (
    AwardDecision,
    AwardDecisionKind,
    BidState,
    Challenge,
    ChallengeState,
    Clarification,
    CommitteeDraw,
    CommitteeMember,
    MemberState,
    Score,
    Tender,
    TenderCriterion,
    TenderEvent,
    TenderState,
)
from procure.timeutil import utcnow


@pytest.fixture()
def base(db, make):
    officer = make.user(Role.OFFICER)
    org = make.organization()
    tender = make.tender(officer, state=TenderState.PUBLISHED)
    return officer, org, tender


def refused(db, fn):
    """``fn`` changes rows; the flush must be refused by the database."""
    with pytest.raises(sa.exc.IntegrityError):
        with db.session.begin_nested():
            fn()
            db.session.flush()


def test_tender_constraints(db, make, base):
    officer, org, tender = base

    def set_(**kw):
        return lambda: [setattr(tender, k, v) for k, v in kw.items()]

    refused(db, set_(price_weight=Decimal("100.01")))
    refused(db, set_(min_rating=6))
    refused(db, set_(single_source_organization_id=org.id))  # not a single-source call
    refused(db, set_(deadline_at=tender.published_at))
    refused(db, set_(opening_at=tender.deadline_at - timedelta(minutes=1)))
    refused(db, set_(wrapped_data_key=None, data_key_id=None))  # published without its key
    refused(db, set_(next_event=TenderEvent.OPENING))  # without its time
    refused(db, set_(state=TenderState.AWARDED))  # no awarded bid, no notice
    refused(db, set_(state=TenderState.FAILED))  # no reason
    tender.next_event, tender.next_event_at = TenderEvent.DEADLINE, tender.deadline_at
    tender.state, tender.reason = TenderState.CANCELLED, "项目取消"
    db.session.flush()
    single = Tender(project_id=tender.project_id, department_id=tender.department_id, title="x",
                    method=ProcurementMethod.SINGLE_SOURCE, created_by_id=officer.id)
    refused(db, lambda: db.session.add(single))  # single source names its organization
    single.single_source_organization_id = org.id
    db.session.add(single)
    db.session.flush()


def test_criteria_one_price_line_and_ranges(db, base):
    _officer, _org, tender = base
    refused(db, lambda: db.session.add(TenderCriterion(tender_id=tender.id, position=5, name="价格2",
                                                       weight=Decimal("1"), is_price=True)))
    refused(db, lambda: db.session.add(TenderCriterion(tender_id=tender.id, position=6, name="x",
                                                       weight=Decimal("-1"))))
    refused(db, lambda: db.session.add(TenderCriterion(tender_id=tender.id, position=0, name="dup position",
                                                       weight=Decimal("1"))))
    db.session.add(TenderCriterion(tender_id=tender.id, position=7, name="团队", weight=Decimal("0")))
    db.session.flush()


def test_bid_constraints(db, make, base):
    officer, org, tender = base
    bid = make.bid(tender, org)
    refused(db, lambda: make.bid(tender, org))  # one bid per organization and tender

    def set_(**kw):
        return lambda: [setattr(bid, k, v) for k, v in kw.items()]

    refused(db, set_(state=BidState.SUBMITTED))  # no receipt
    refused(db, set_(state=BidState.OPENED))
    refused(db, set_(sealed_sha256="abc"))
    refused(db, set_(price=Decimal("-1")))
    opened = make.bid(tender, make.organization(), state=BidState.OPENED)
    refused(db, lambda: setattr(opened, "state", BidState.DISQUALIFIED))  # without a reason
    refused(db, lambda: setattr(opened, "price", None) or setattr(opened, "state", BidState.QUALIFIED))
    opened.state, opened.disqualification_reason = BidState.DISQUALIFIED, "报价超过最高限价"
    db.session.flush()


def test_committee_scores_awards_challenges(db, make, base):
    officer, org, tender = base
    ev = make.user(Role.EVALUATOR)
    refused(db, lambda: db.session.add(CommitteeDraw(tender_id=tender.id, algorithm="x", seed="s", pool=[],
                                                     result={}, size=4, drawn_by_id=officer.id)))
    member = CommitteeMember(tender_id=tender.id, user_id=ev.id, position=0)
    db.session.add(member)
    db.session.flush()
    refused(db, lambda: db.session.add(CommitteeMember(tender_id=tender.id, user_id=ev.id, position=1)))
    refused(db, lambda: setattr(member, "state", MemberState.DECLARED))  # no time
    refused(db, lambda: [setattr(member, "state", MemberState.CONFLICTED), setattr(member, "declared_at", utcnow())])
    bid = make.bid(tender, org, state=BidState.QUALIFIED)
    crit = tender.criteria[0]
    db.session.add(Score(member_id=member.id, bid_id=bid.id, criterion_id=crit.id, score=Decimal("60")))
    db.session.flush()
    refused(db, lambda: db.session.add(Score(member_id=member.id, bid_id=bid.id, criterion_id=crit.id, score=1)))
    refused(db, lambda: db.session.add(AwardDecision(tender_id=tender.id, bid_id=bid.id,
                                                     decision=AwardDecisionKind.SKIP, decided_by_id=officer.id)))
    ch = Challenge(tender_id=tender.id, organization_id=org.id, reason="x", lodged_by_id=officer.id,
                   answer_due_at=utcnow())
    db.session.add(ch)
    db.session.flush()
    refused(db, lambda: setattr(ch, "state", ChallengeState.ANSWERED))
    refused(db, lambda: db.session.add(Clarification(tender_id=tender.id, text="x", published_by_id=officer.id,
                                                     old_deadline_at=tender.deadline_at,
                                                     new_deadline_at=tender.deadline_at + timedelta(days=1))))


def test_method_policy_reads_the_rules_in_force(app, services_ready):
    from procure import create_app

    from ..conftest import app_config

    with app.app_context():
        public = policy.method_policy(ProcurementMethod.PUBLIC_TENDER)
        assert (public.min_period, public.period_unit, public.min_bids, public.committee_size) == (
            20, policy.CALENDAR_DAYS, 3, 5)
        assert public.min_experts() == 4 and public.clarification_min == 15
        assert "第二十七条" in public.source("clarification_min")
        assert public.challenge_working_days == 7 and public.answer_working_days == 7
        assert policy.method_policy("single_source").min_bids == 1
        assert policy.method_policy("negotiation").period_unit == policy.WORKING_DAYS
        for method in ProcurementMethod:
            m = policy.method_policy(method)
            assert m.committee_size % 2 == 1 and m.min_bids >= 1 and 0 <= m.min_price_weight < 1
    other = create_app("testing", **app_config(POLICY_OVERRIDES={"evaluation.min_members.public": "6",
                                                                 "tender.min_bids.public": "4"}))
    with other.app_context():
        public = policy.method_policy("public_tender")
        assert public.committee_size == 7 and public.min_bids == 4  # an even size made odd
