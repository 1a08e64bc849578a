"""Tender pages over HTTP: Beijing times in and out, bad input refused with a clear
message and nothing stored, a bid saved and submitted, a form posted after the deadline."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select, update

from procure.documents.models import Document
from procure.tenders import bidding
from procure.tenders.models import Bid, BidState, Tender
from procure.timeutil import to_local, utcnow

from ..conftest import login
from .helpers import published_tender, world


def _local(dt):
    return to_local(dt).strftime("%Y-%m-%dT%H:%M")


def _tender_form(project, published, deadline, **kw):
    data = {"project_id": str(project.id), "title": "居家养老服务采购公告", "method": "public_tender",
            "published_at": _local(published), "deadline_at": _local(deadline), "opening_at": _local(deadline),
            "price_weight": "30", "criteria-0-name": "服务方案", "criteria-0-weight": "70",
            "criteria-0-max_score": "70", "require_annual_report": "y", "require_good_credit": "y"}
    data.update(kw)
    return data




def test_officer_creates_in_beijing_time_and_publishes(client, db, make):
    officer, project, _b = world(make)
    db.session.commit()
    login(client, officer.username)
    page = client.get(f"/tenders/new?project_id={project.id}")
    assert page.status_code == 200 and "公开招标" in page.get_data(as_text=True)  # the methods table
    assert "第十六条" in page.get_data(as_text=True)
    published = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=5)
    deadline = bidding.earliest_deadline("public_tender", published) + timedelta(days=1)
    resp = client.post("/tenders/new", data=_tender_form(project, published, deadline))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    tender = db.session.scalar(select(Tender))
    assert tender.deadline_at == deadline.replace(second=0, microsecond=0)  # typed in Beijing, stored UTC
    detail = client.get(f"/tenders/{tender.id}").get_data(as_text=True)
    assert to_local(tender.deadline_at).strftime("%H:%M") in detail
    resp = client.post(f"/tenders/{tender.id}/publish", data={})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Tender, tender.id).state.value == "published"


def test_bad_tender_input_gives_a_message_and_stores_nothing(client, db, make):
    officer, project, _b = world(make)
    db.session.commit()
    login(client, officer.username)
    published = utcnow() + timedelta(minutes=5)
    deadline = bidding.earliest_deadline("public_tender", published) + timedelta(days=1)
    cases = [
        ({"published_at": _local(utcnow() - timedelta(days=3))}, "发布时间已经过去"),
        ({"criteria-0-weight": "60"}, "不是 100"),
        ({"deadline_at": _local(published + timedelta(days=3)), "opening_at": _local(published + timedelta(days=3))},
         "最早为"),
        ({"price_weight": "5", "criteria-0-weight": "95"}, "不得低于"),
    ]
    for change, message in cases:
        resp = client.post("/tenders/new", data=_tender_form(project, published, deadline, **change))
        assert resp.status_code == 400, change
        assert message in resp.get_data(as_text=True), (change, message)
    assert db.session.scalar(select(Tender.id)) is None


def _bid_form(price="60000.00", admin="5000.00", **kw):
    from decimal import Decimal
    data = {"price": price, "proposal": "服务方案 HTTP", "breakdown-0-category": "personnel",
            "breakdown-0-amount": str(Decimal(price) - Decimal(admin)) if "." in price and len(price.split(".")[1]) <= 2
            else "1", "breakdown-1-category": "admin", "breakdown-1-amount": admin}
    data.update(kw)
    return data


def test_bid_over_http_and_bad_input(app, client, db, make):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    user = bidders[0][1]
    db.session.commit()
    login(client, user.username)
    assert tender.title in client.get("/tenders/calls").get_data(as_text=True)
    assert client.get(f"/tenders/calls/{tender.id}/bid").status_code == 200
    # a price with three decimals
    resp = client.post(f"/tenders/calls/{tender.id}/bid", data=_bid_form("60000.001", save="1"))
    assert resp.status_code == 400 and "两位小数" in resp.get_data(as_text=True)
    # a disguised attachment: an executable named .pdf
    resp = client.post(f"/tenders/calls/{tender.id}/bid", content_type="multipart/form-data",
                       data=dict(_bid_form(save="1"),
                                 attachments=(io.BytesIO(b"MZ\x90\x00" + b"\x01" * 64), "方案.pdf")))
    assert resp.status_code == 400
    # 50 MB
    big = b"%PDF-1.4\n" + b"0" * (50 * 1024 * 1024)
    resp = client.post(f"/tenders/calls/{tender.id}/bid", content_type="multipart/form-data",
                       data=dict(_bid_form(save="1"), attachments=(io.BytesIO(big), "大文件.pdf")))
    assert resp.status_code in (400, 413)
    del big
    assert db.session.scalar(select(Bid.id)) is None
    assert db.session.scalar(select(Document.id).where(Document.kind == "bid_attachment")) is None
    # saved, then submitted
    resp = client.post(f"/tenders/calls/{tender.id}/bid", content_type="multipart/form-data",
                       data=dict(_bid_form(save="1"), attachments=(io.BytesIO("%PDF-1.4\n附件".encode()), "方案.pdf")))
    assert resp.status_code == 302
    form = client.get(f"/tenders/calls/{tender.id}/bid").get_data(as_text=True)
    assert "方案.pdf" in form and "60000.00" in form
    resp = client.post(f"/tenders/calls/{tender.id}/bid", data=_bid_form(submit_bid="1"))
    assert resp.status_code == 302 and "/receipt" in resp.location
    bid = db.session.scalar(select(Bid))
    assert bid.state == BidState.SUBMITTED
    receipt = client.get(resp.location).get_data(as_text=True)
    assert bid.sealed_sha256 in receipt and bid.receipt_no in receipt
    # another organization's staff: 404, never a hint the bid exists
    other = app.test_client()
    login(other, bidders[1][1].username)
    assert other.get(f"/tenders/bids/{bid.id}/receipt").status_code == 404
    assert other.get(f"/tenders/bids/{bid.id + 1000}/receipt").status_code == 404


def test_form_loaded_before_the_deadline_posted_after(client, db, make):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    user = bidders[0][1]
    db.session.commit()
    login(client, user.username)
    assert client.get(f"/tenders/calls/{tender.id}/bid").status_code == 200  # loaded in time
    now = utcnow()
    db.session.execute(update(Tender).where(Tender.id == tender.id).values(
        published_at=now - timedelta(days=30), deadline_at=now - timedelta(seconds=1),
        opening_at=now + timedelta(hours=1), next_event_at=now + timedelta(hours=1)))
    db.session.commit()
    resp = client.post(f"/tenders/calls/{tender.id}/bid", data=_bid_form(submit_bid="1"))
    assert resp.status_code == 400 and "已过" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Bid.id)) is None
