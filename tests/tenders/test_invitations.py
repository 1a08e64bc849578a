"""Invited tenders (邀请招标) and single source: the officer's invitation list picked from
the registry; only invited organizations read the call, see it on their dashboard and bid
(others refused with the reason); the invited are told by email and in-app notice when the
call is published or when invited later; public tenders unchanged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from procure import audit
from procure.errors import InvalidTransition, NotPermitted, ValidationError
from procure.extensions import limiter
from procure.notifications.models import Notice
from procure.tenders import bidding, invitations
from procure.tenders.models import Tender, TenderInvitation, TenderState
from procure.timeutil import utcnow

from ..conftest import login
from .evaluation_setup import en
from .helpers import bid_data, published_tender, submitted_bid, tender_data, world


def _invited_world(make, db):
    officer, project, bidders = world(make, orgs=("同心养老服务中心", "阳光社工事务所", "康乐助残服务社",
                                                   "未受邀服务中心"))
    tender = bidding.create_tender(officer, tender_data(project, method="invited_tender"))
    return officer, project, bidders, tender


def test_the_invitation_list_and_publication(db, make):
    officer, _project, bidders, tender = _invited_world(make, db)
    (a, ua), (b, ub), (c, uc), (outsider, uo) = bidders
    # The registry search finds by name or credit code, without those already invited.
    assert [o.id for o in invitations.search("阳光", tender)] == [b.id]
    assert invitations.search("", tender) == []
    invitations.invite(officer, tender, a.id)
    invitations.invite(officer, tender, b.id)
    assert invitations.search("同心", tender) == []
    with pytest.raises(ValidationError):
        invitations.invite(officer, tender, a.id)  # already invited
    with pytest.raises(ValidationError):
        invitations.invite(officer, tender, "999999")
    with pytest.raises(NotPermitted):
        invitations.invite(ua, tender, c.id)
    # Publishing needs the method's minimum (3 for an invited tender), with the rule.
    with pytest.raises(ValidationError) as exc:
        bidding.publish_tender(officer, tender)
    assert "at least 3 organizations" in en(exc.value.message)
    invitations.invite(officer, tender, c.id)
    invitations.uninvite(officer, tender, c.id)
    invitations.invite(officer, tender, c.id)
    bidding.publish_tender(officer, tender)
    db.session.commit()
    assert tender.state == TenderState.PUBLISHED
    # The invited are told (email and in-app), the others not.
    told = set(db.session.scalars(select(Notice.user_id).where(Notice.rule == "tender.invited")))
    assert told == {ua.id, ub.id, uc.id}
    assert db.session.scalar(select(func.count()).select_from(Notice).where(Notice.rule == "tender.published")) == 0
    from procure.notifications.models import Notification

    emails = set(db.session.scalars(select(Notification.recipient_id).where(Notification.rule == "tender.invited")))
    assert emails == {ua.id, ub.id, uc.id}
    with pytest.raises(InvalidTransition):
        invitations.uninvite(officer, tender, c.id)  # only from a draft
    actions = list(db.session.scalars(select(audit.AuditEvent.action).where(
        audit.AuditEvent.action.in_(["tender.invite", "tender.uninvite"]))))
    assert actions.count("tender.invite") == 4 and actions.count("tender.uninvite") == 1
    # Only the invited read and answer the call.
    assert tender in db.session.scalars(bidding.open_calls(ua)).all()
    assert tender not in db.session.scalars(bidding.open_calls(uo)).all()
    submitted_bid(tender, ua)
    with pytest.raises(NotPermitted) as exc:
        bidding.save_bid(uo, tender, bid_data())
    assert "未受邀服务中心" in str(exc.value.message)
    reasons = bidding.eligibility_reasons(tender, outsider)
    assert reasons and reasons[0].code == "not_invited"
    assert bidding.eligibility_reasons(tender, a) == []
    # Invited after the publication: told at once.
    late, late_user = bidders[3]
    invitations.invite(officer, tender, late.id)
    assert db.session.scalar(select(Notice).where(Notice.user_id == late_user.id, Notice.rule == "tender.invited"))
    assert tender in db.session.scalars(bidding.open_calls(late_user)).all()


def test_public_tenders_are_unchanged(db, make):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    with pytest.raises(ValidationError):
        invitations.invite(officer, tender, bidders[0][0].id)  # no invitation list
    assert all(invitations.may_answer(tender, org.id) for org, _u in bidders)
    assert bidding.eligibility_reasons(tender, bidders[0][0]) == []
    told = set(db.session.scalars(select(Notice.user_id).where(Notice.rule == "tender.published")))
    assert {u.id for _o, u in bidders} <= told


def test_single_source_is_its_one_organization(db, make):
    officer, project, bidders = world(make)
    (org, user), (other, other_user) = bidders[0], bidders[1]
    tender = published_tender(make, officer, project, method="single_source", single_source_organization_id=org.id)
    assert invitations.invited_ids(tender) == {org.id}
    assert db.session.scalar(select(Notice).where(Notice.user_id == user.id, Notice.rule == "tender.invited"))
    assert db.session.scalar(select(Notice).where(Notice.user_id == other_user.id)) is None
    assert bidding.eligibility_reasons(tender, other)[0].code == "not_invited"
    with pytest.raises(ValidationError):
        invitations.invite(officer, tender, other.id)  # named in the call, no list


def _as(client, user):
    limiter.reset()
    c = client.application.test_client()
    assert login(c, user.username).status_code == 302
    return c


def test_the_pages(client, db, make):
    officer, _project, bidders, tender = _invited_world(make, db)
    db.session.commit()
    c = _as(client, officer)
    page = c.get(f"/tenders/{tender.id}/invitations?q=阳光")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "阳光社工事务所" in body and 'id="found"' in body
    for org, _u in bidders[:3]:
        assert c.post(f"/tenders/{tender.id}/invitations", data={"organization_id": str(org.id)}).status_code == 302
    again = c.post(f"/tenders/{tender.id}/invitations", data={"organization_id": str(bidders[0][0].id)})
    assert again.status_code == 400 and "alert-danger" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(TenderInvitation)) == 3
    assert "同心养老服务中心" in c.get(f"/tenders/{tender.id}/invitations").get_data(as_text=True)
    assert c.post(f"/tenders/{tender.id}/publish").status_code == 302
    db.session.expire_all()
    assert tender.state == TenderState.PUBLISHED
    # Invited: the call and the dashboard; not invited: told why.
    invited = _as(client, bidders[0][1])
    assert invited.get(f"/tenders/calls/{tender.id}").status_code == 200
    outsider = _as(client, bidders[3][1])
    refused = outsider.get(f"/tenders/calls/{tender.id}/bid")
    assert refused.status_code == 403 and 'id="not-invited"' in refused.get_data(as_text=True)
    assert "未受邀服务中心" in refused.get_data(as_text=True)
    assert outsider.get(f"/tenders/calls/{tender.id}").status_code == 403
    # The officer page of a stranger: no invitation list.
    assert _as(client, bidders[0][1]).get(f"/tenders/{tender.id}/invitations").status_code == 403


def test_the_dashboard_of_the_invited(client, db, make):
    officer, _project, bidders, tender = _invited_world(make, db)
    for org, _u in bidders[:3]:
        invitations.invite(officer, tender, org.id)
    bidding.publish_tender(officer, tender)
    db.session.execute(update(Tender).where(Tender.id == tender.id)
                       .values(published_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    html = _as(client, bidders[1][1]).get("/dashboard").get_data(as_text=True)
    assert tender.title in html.split('data-worklist="tender.open_calls"', 1)[1].split("</section>", 1)[0]
    other = _as(client, bidders[3][1]).get("/dashboard").get_data(as_text=True)
    assert tender.title not in other
