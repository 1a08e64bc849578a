"""The evaluation report (评审报告) and the notice of award (中标通知书): rendered by the
worker through the jobs system, stored as documents, their text read back with pypdf
and pdftotext (a CJK font embedded)."""

from __future__ import annotations

import io
import subprocess

from pypdf import PdfReader
from sqlalchemy import select

from procure.documents.models import Document
from procure.documents.services import read_document
from procure.jobs.models import Job, JobState
from procure.roles import Role
from procure.tenders import award as aw
from procure.tenders import evaluation as ev
from procure.tenders.models import Tender
from workers import evaluation as tasks

from .test_award import ranked


def _run(db, kind, task):
    job = db.session.scalar(select(Job).where(Job.kind == kind).order_by(Job.id.desc()))
    assert job is not None
    db.session.commit()
    db.session.refresh(job)
    if job.state == JobState.QUEUED:
        assert task.run(job.id) == "done"
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == JobState.DONE, job.message
    return db.session.get(Document, job.result_document_id)


def _text(data: bytes, tmp_path) -> tuple[str, str]:
    via_pypdf = "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())
    path = tmp_path / "t.pdf"
    path.write_bytes(data)
    via_poppler = "".join(subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                                         capture_output=True, text=True).stdout.split())
    return via_pypdf, via_poppler


def _fonts(data: bytes) -> set:
    fonts = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for f in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(f.get_object()["/BaseFont"]))
    return fonts


def test_the_evaluation_report(db, make, tmp_path):
    o = ranked(make)
    doc = _run(db, "tender.evaluation_report", tasks.evaluation_report)
    assert doc.object_type == "tenders" and doc.object_id == str(o.tender.id) and doc.kind == "evaluation_report"
    data = read_document(doc)
    assert data.startswith(b"%PDF-") and any("CJK" in f for f in _fonts(data))
    seated = ev.members_of(o.tender)
    for text in _text(data, tmp_path):
        assert "评审报告" in text
        for org in o.orgs:
            assert org.name in text
        for m in seated:
            assert "".join(m.user.name.split()) in text
        for total in ("85.00", "82.00", "81.67", "26.67"):  # see ranked(): 61+24, 52+30, 55+26.667 (two decimals)
            assert total in text
        assert "81.667" not in text and "26.667" not in text
        assert "服务方案" in text and "团队" in text
        assert "\ufffd" not in text


def test_the_notice_of_award(db, make, tmp_path):
    o = ranked(make)
    winner = o.bids[1]
    staff = make.user(Role.ORG, organization=winner.organization)
    loser = make.user(Role.ORG, organization=o.bids[0].organization)
    aw.award_bid(o.officer, o.tender, winner)
    aw.end_publicity(o.tender, now=o.tender.challenge_ends_at)
    aw.end_challenge_window(o.tender, now=o.tender.challenge_ends_at)
    doc = _run(db, aw.NOTICE_JOB, tasks.award_notice)
    assert (doc.object_type, doc.object_id, doc.permission_action) == ("bids", str(winner.id), "award.notice")
    from procure.permissions import can

    assert can(staff, "award.notice", winner) and not can(loser, "award.notice", winner)
    data = read_document(doc)
    assert any("CJK" in f for f in _fonts(data))
    for text in _text(data, tmp_path):
        assert "中标通知书" in text or "成交通知书" in text
        assert winner.organization.name in text and o.tender.title.replace(" ", "") in text
        assert "100,000.00" in text and "壹拾万元整" in text
    assert db.session.get(Tender, o.tender.id).state.value == "final"
