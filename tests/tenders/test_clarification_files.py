"""Clarifications with documents: PDF, Word or Excel (type checked by content), shown
under the clarification to the officer, to every bidder and on the public portal; a
disguised file is refused with a message and nothing is stored."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import func, select, update

from procure.documents.models import Document
from procure.extensions import limiter
from procure.tenders.models import Clarification, Tender, TenderDocument
from procure.timeutil import utcnow

from ..conftest import login
from .helpers import published_tender, world

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _as(client, user):
    limiter.reset()
    c = client.application.test_client()
    assert login(c, user.username).status_code == 302
    return c


def test_a_clarification_with_documents(client, db, make):
    officer, project, bidders = world(make)
    tender = published_tender(make, officer, project)
    db.session.execute(update(Tender).where(Tender.id == tender.id)
                       .values(published_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    c = _as(client, officer)
    url = f"/tenders/{tender.id}/clarify"
    # A disguised executable: refused, nothing stored.
    bad = c.post(url, data={"clar-text": "补充说明", "clar-files": [(io.BytesIO(b"MZ\x90\x00" + b"\x01" * 64),
                                                                    "答疑.pdf")]},
                 content_type="multipart/form-data")
    assert bad.status_code == 400 and "invalid-feedback" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Clarification)) == 0
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0
    ok = c.post(url, data={"clar-text": "补充说明：服务地点增加两个社区",
                           "clar-files": [(io.BytesIO(PDF), "答疑纪要.pdf")]}, content_type="multipart/form-data")
    assert ok.status_code == 302, ok.get_data(as_text=True)[:1500]
    clar = db.session.scalar(select(Clarification))
    doc = db.session.scalar(select(TenderDocument).where(TenderDocument.clarification_id == clar.id))
    assert doc is not None and doc.title == "答疑纪要.pdf"
    # The officer, a bidder and the public see it under the clarification.
    for page in (c.get(f"/tenders/{tender.id}"), _as(client, bidders[0][1]).get(f"/tenders/calls/{tender.id}"),
                 client.application.test_client().get(f"/portal/calls/{tender.id}")):
        body = page.get_data(as_text=True)
        assert page.status_code == 200 and 'class="clarification-document"' in body and "答疑纪要.pdf" in body
    public = client.application.test_client().get(f"/portal/calls/{tender.id}/documents/{doc.id}")
    assert public.status_code == 200 and public.data == PDF


def test_the_service_checks_the_type(db, make):
    import pytest

    from procure.documents.uploads import CheckedUpload
    from procure.errors import ValidationError
    from procure.tenders import bidding

    officer, project, _b = world(make)
    tender = published_tender(make, officer, project)
    png = CheckedUpload(b"\x89PNG\r\n", "图.png", "png", "image/png")
    with pytest.raises(ValidationError):
        bidding.clarify(officer, tender, "说明", False, files=[png])
    with pytest.raises(ValidationError):
        bidding.clarify(officer, tender, "说明", False,
                        files=[CheckedUpload(PDF, f"{i}.pdf", "pdf", "application/pdf") for i in range(6)])
    assert db.session.scalar(select(func.count()).select_from(Clarification)) == 0
