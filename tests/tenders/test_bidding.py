"""Calls and bids through the services: every path allowed and refused."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from procure.audit import AuditEvent
from procure.documents.uploads import check_upload
from procure.errors import Conflict, InvalidTransition, NotPermitted, ValidationError
from procure.notifications.models import Notice
from procure.organizations.models import CreditEntry, CreditList, EntryState
from procure.projects.models import ProjectState
from procure.roles import Role
from procure.tenders import bidding, content, services  # noqa: F401
from procure.tenders.models import Bid, BidState, Tender, TenderEvent, TenderState
from procure.timeutil import utcnow

from .helpers import PROPOSAL, bid_data, move_times, published_tender, submitted_bid, tender_data, world


def test_create_and_publish(db, make):
    officer, project, bidders = world(make)
    tender = bidding.create_tender(officer, tender_data(project))
    assert tender.state == TenderState.DRAFT and [c.is_price for c in tender.criteria] == [False, False, True]
    with pytest.raises(Conflict):  # one call in progress per project
        bidding.create_tender(officer, tender_data(project))
    other = make.user(Role.OFFICER)
    with pytest.raises(NotPermitted):
        bidding.publish_tender(other, tender)
    bidding.publish_tender(officer, tender)
    assert tender.state == TenderState.PUBLISHED and tender.wrapped_data_key is not None
    assert tender.next_event == TenderEvent.OPENING and tender.next_event_at == tender.opening_at
    assert project.state == ProjectState.TENDERING
    told = set(db.session.scalars(select(Notice.user_id).where(Notice.rule == "tender.published")))
    assert {u.id for _o, u in bidders} <= told and officer.id not in told
    with pytest.raises(InvalidTransition):
        bidding.update_tender(officer, tender, tender_data(project))


def test_project_must_be_approved(db, make):
    officer = make.user(Role.OFFICER)
    project = make.project(officer)
    with pytest.raises(InvalidTransition):
        bidding.create_tender(officer, tender_data(project))
    assert db.session.scalar(select(Tender.id)) is None


@pytest.mark.parametrize("change, field", [
    ({"price_weight": "5", "criteria": [bidding.CriterionData("方案", "95", "95")]}, "price_weight"),
    ({"criteria": [bidding.CriterionData("方案", "60", "60")]}, "criteria"),  # 60 + 30 = 90
    ({"criteria": [bidding.CriterionData("方案", "70.001", "70")]}, "criteria"),
    ({"title": "标题\x00"}, "title"),
    ({"method": "nonsense"}, "method"),
    ({"method": "single_source"}, "single_source_organization_id"),
    ({"min_rating": "9"}, "min_rating"),
])
def test_bad_call_input_is_refused_and_nothing_stored(db, make, change, field):
    officer, project, _b = world(make)
    data = tender_data(project)
    for k, v in change.items():
        setattr(data, k, v)
    with pytest.raises(ValidationError) as exc:
        bidding.create_tender(officer, data)
    assert exc.value.field == field
    assert db.session.scalar(select(Tender.id)) is None


def test_times_past_and_too_early(db, make, app):
    officer, project, _b = world(make)
    with pytest.raises(ValidationError) as exc:
        bidding.create_tender(officer, tender_data(project, published=utcnow() - timedelta(days=2)))
    assert exc.value.field == "published_at"
    published = utcnow() + timedelta(minutes=1)
    early = bidding.earliest_deadline("public_tender", published) - timedelta(minutes=1)
    with app.test_request_context(), pytest.raises(ValidationError) as exc:
        bidding.create_tender(officer, tender_data(project, published=published, deadline=early))
    assert exc.value.field == "deadline_at"
    assert "第十六条" in str(exc.value.message)  # the rule's source
    late_opening = tender_data(project)
    late_opening.opening_at = late_opening.deadline_at - timedelta(minutes=1)
    with pytest.raises(ValidationError):
        bidding.create_tender(officer, late_opening)


def test_single_source_names_its_organization(db, make):
    officer, project, bidders = world(make)
    (org, user), (_other, other_user) = bidders[0], bidders[1]
    tender = published_tender(make, officer, project, method="single_source", single_source_organization_id=org.id)
    assert tender.single_source_organization_id == org.id
    assert tender in db.session.scalars(bidding.open_calls(user)).all()
    assert tender not in db.session.scalars(bidding.open_calls(other_user)).all()
    with pytest.raises(NotPermitted):
        bidding.save_bid(other_user, tender, bid_data())


def test_bid_draft_submit_withdraw_resubmit(db, make):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    org, user = bidders[0]
    bid = bidding.save_bid(user, tender, bidding.BidData(price="50000.00", proposal="草稿"))
    assert bid.state == BidState.DRAFT and b"50000" not in bid.sealed_content
    assert bidding.read_bid(user, bid)["price"] == "50000.00"
    with pytest.raises(ValidationError):  # no breakdown yet
        bidding.submit_bid(user, bid)
    bid = bidding.save_bid(user, tender, bid_data())
    bidding.submit_bid(user, bid)
    assert bid.state == BidState.SUBMITTED and bid.receipt_no and len(bid.sealed_sha256) == 64
    assert content.open_bundle(tender, bid, verify=True)["proposal"] == PROPOSAL
    with pytest.raises(InvalidTransition):  # changing a submitted bid needs a withdrawal first
        bidding.save_bid(user, tender, bid_data("1.00", admin="0.00"))
    staff_of_other = bidders[1][1]
    with pytest.raises(NotPermitted):
        bidding.withdraw_bid(staff_of_other, bid)
    with pytest.raises(NotPermitted):
        bidding.read_bid(officer, bid)
    first = bid.sealed_sha256
    bidding.withdraw_bid(user, bid)
    assert bid.state == BidState.WITHDRAWN
    bidding.save_bid(user, tender, bid_data("55000.00"))
    bidding.submit_bid(user, bid)
    assert bid.state == BidState.SUBMITTED and bid.sealed_sha256 != first
    assert not db.session.scalars(select(Notice).where(Notice.object_type == "bids")).all()  # nobody told


@pytest.mark.parametrize("price, admin, field", [
    ("100000.01", "5000.00", "price"),  # above the ceiling
    ("60000.00", "6000.01", "breakdown"),  # administrative costs above 10 %
])
def test_submission_checks(db, make, price, admin, field):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    user = bidders[0][1]
    bid = bidding.save_bid(user, tender, bid_data(price, admin=admin))
    with pytest.raises(ValidationError) as exc:
        bidding.submit_bid(user, bid)
    assert exc.value.field == field
    assert bid.state == BidState.DRAFT


def test_price_with_three_decimals_stores_nothing(db, make):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    with pytest.raises(ValidationError) as exc:
        bidding.save_bid(bidders[0][1], tender, bid_data("60000.001"))
    assert exc.value.field == "price"
    db.session.rollback()
    assert db.session.scalar(select(Bid.id)) is None


def _upload(data: bytes, name: str):
    return FileStorage(stream=io.BytesIO(data), filename=name, name="attachments")


def test_attachments_sealed_and_checked(db, make, app):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    user = bidders[0][1]
    pdf = b"%PDF-1.4\n" + "投标附件秘密".encode() * 10
    checked = check_upload(_upload(pdf, "方案.pdf"), bidding.BID_ATTACHMENT_TYPES, 1024 * 1024)
    data = bid_data()
    data.new_attachments = [checked]
    bid = bidding.save_bid(user, tender, data)
    att = bidding.read_bid(user, bid)["attachments"][0]
    assert att["filename"] == "方案.pdf"
    entry, plain = bidding.attachment_data(user, bid, att["document_id"])
    assert plain == pdf
    from procure.documents.models import Document
    from procure.documents.services import read_document
    doc = db.session.get(Document, att["document_id"])
    assert doc.filename == bidding.SEALED_NAME and pdf not in read_document(doc)
    with pytest.raises(ValidationError):  # an .exe named .pdf
        check_upload(_upload(b"MZ\x90\x00" + b"\x00" * 50, "方案.pdf"), bidding.BID_ATTACHMENT_TYPES, 1024)
    with pytest.raises(ValidationError):  # too large
        check_upload(_upload(b"%PDF-" + b"x" * 2048, "a.pdf"), bidding.BID_ATTACHMENT_TYPES, 1024)


@pytest.mark.parametrize("condition", ["registered", "annual_report", "abnormal", "rating", "filed"])
def test_each_eligibility_condition_refuses_alone(db, make, app, condition):
    from datetime import date

    from procure.organizations.models import AnnualReport, OrgKind
    officer, project, bidders = world(make)
    kw = {"min_rating": 3} if condition == "rating" else {}
    if condition == "rating":
        from procure.organizations.models import Rating
        for org, _u in bidders[1:]:
            db.session.add(Rating(organization_id=org.id, level=4, rated_on=date(2025, 1, 1),
                                  expires_on=date(2030, 1, 1)))
            org.rating_level = 4
    tender = published_tender(make, officer, project, **kw)
    org, user = bidders[0]
    if condition == "registered":
        org.registration_date = utcnow().date() - timedelta(days=100)
        for r in db.session.scalars(select(AnnualReport).where(AnnualReport.organization_id == org.id)):
            db.session.delete(r)
    elif condition == "annual_report":
        for r in db.session.scalars(select(AnnualReport).where(AnnualReport.organization_id == org.id)):
            db.session.delete(r)
    elif condition == "abnormal":
        db.session.add(CreditEntry(organization_id=org.id, list=CreditList.ABNORMAL, state=EntryState.LISTED,
                                   listed_on=date(2026, 1, 5), reason="未按时报送年报"))
    elif condition == "filed":
        org.kind = OrgKind.FILED
    db.session.flush()
    bid = bidding.save_bid(user, tender, bid_data())
    with app.test_request_context(), pytest.raises(bidding.NotEligible) as exc:
        bidding.submit_bid(user, bid)
    assert [r.code for r in exc.value.reasons] == [condition]
    assert bid.state == BidState.DRAFT
    # another organization, meeting every condition, submits
    submitted_bid(tender, bidders[1][1])


def test_deadline_one_second_late_refused(db, make, monkeypatch):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    user = bidders[0][1]
    bid = bidding.save_bid(user, tender, bid_data())  # the form loaded before the deadline ...
    monkeypatch.setattr(bidding, "utcnow", lambda: tender.deadline_at + timedelta(seconds=1))
    with pytest.raises(InvalidTransition) as exc:  # ... posted one second after it
        bidding.submit_bid(user, bid)
    assert "截止" in str(exc.value.message) or "deadline" in str(exc.value.message)
    with pytest.raises(InvalidTransition):
        bidding.save_bid(user, tender, bid_data())
    monkeypatch.setattr(bidding, "utcnow", lambda: tender.deadline_at - timedelta(seconds=1))
    bidding.submit_bid(user, bid)
    monkeypatch.setattr(bidding, "utcnow", lambda: tender.deadline_at)
    with pytest.raises(InvalidTransition):
        bidding.withdraw_bid(user, bid)


def test_late_clarification_pushes_the_deadline_and_asks_for_confirmation(db, make, monkeypatch):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    user = bidders[0][1]
    bid = submitted_bid(tender, user)
    early = bidding.clarify(officer, tender, "补充说明：服务时间不变", affects_bids=False)
    assert early.new_deadline_at is None and not bid.needs_reconfirmation
    # ten days before the deadline, a clarification that may affect the bids: pushed out
    monkeypatch.setattr(bidding, "utcnow", lambda: tender.deadline_at - timedelta(days=10))
    old_deadline, old_opening = tender.deadline_at, tender.opening_at
    clar = bidding.clarify(officer, tender, "服务人数由300人调整为350人", affects_bids=True)
    assert clar.old_deadline_at == old_deadline and clar.new_deadline_at > old_deadline
    assert tender.deadline_at - (old_deadline - timedelta(days=10)) >= timedelta(days=15)
    assert tender.opening_at - old_opening == tender.deadline_at - old_deadline
    db.session.refresh(bid)
    assert bid.needs_reconfirmation
    with pytest.raises(ValidationError):  # a new deadline given but too early
        bidding.clarify(officer, tender, "再次调整", affects_bids=True,
                        new_deadline_at=tender.deadline_at - timedelta(days=1))
    bidding.confirm_bid(user, bid)
    assert not bid.needs_reconfirmation
    with pytest.raises(NotPermitted):
        bidding.clarify(user, tender, "x", affects_bids=False)


def test_cancel_before_opening(db, make):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    submitted_bid(tender, bidders[0][1])
    with pytest.raises(ValidationError):
        bidding.cancel_tender(officer, tender, "  ")
    bidding.cancel_tender(officer, tender, "预算调整，取消本次采购")
    assert tender.state == TenderState.CANCELLED and tender.next_event is None
    assert project.state == ProjectState.APPROVED
    told = set(db.session.scalars(select(Notice.user_id).where(Notice.rule == "tender.cancelled")))
    assert bidders[0][1].id in told
    with pytest.raises(InvalidTransition):
        bidding.cancel_tender(officer, tender, "again")
    move = published_tender(make, officer, project)  # the project can be tendered again
    move_times(db, move, deadline=utcnow() - timedelta(hours=1), opening=utcnow() - timedelta(minutes=1))
    db.session.commit()
    from procure.tenders import events
    events.apply_due_events()
    db.session.refresh(move)
    with pytest.raises(InvalidTransition):
        bidding.cancel_tender(officer, move, "after the opening")


def test_bid_events_hidden_from_the_audit_page_until_opening(db, make):
    from procure import audit
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    bid = submitted_bid(tender, bidders[0][1])
    shown = db.session.scalars(audit.shown_events(select(AuditEvent))).all()
    assert not [e for e in shown if e.object_type == "bids"]
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "bids")).all()
    move_times(db, tender, deadline=utcnow() - timedelta(hours=1), opening=utcnow() - timedelta(minutes=1))
    db.session.commit()
    from procure.tenders import events
    events.apply_due_events()
    db.session.refresh(bid)
    shown = db.session.scalars(audit.shown_events(select(AuditEvent))).all()
    assert [e for e in shown if e.object_type == "bids" and e.object_id == str(bid.id)]
    assert Decimal(bid.price) == Decimal("60000.00")


def test_failed_grade_hook_refuses_when_the_call_bars_it(db, make, app, monkeypatch):
    """No performance data exists yet: the registry asks the checks registered for it."""
    from procure.organizations import services as org_services
    officer, project, bidders = world(make)
    org, user = bidders[0]
    failed = org_services.Reason("failed_grade", "上年度绩效评价不合格")
    monkeypatch.setattr(org_services, "FAILED_GRADE_CHECKS", [lambda o, at: failed if o.id == org.id else None])
    tender = published_tender(make, officer, project)
    bid = bidding.save_bid(user, tender, bid_data())
    with app.test_request_context(), pytest.raises(bidding.NotEligible) as exc:
        bidding.submit_bid(user, bid)
    assert [r.code for r in exc.value.reasons] == ["failed_grade"]
    second = make.approved_project(officer, make.appropriation(officer.department, year=2027), year=2027)
    other = published_tender(make, officer, second, bar_failed_grade=False)
    submitted_bid(other, user)
