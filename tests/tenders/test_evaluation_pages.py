"""The evaluation pages end to end: the officer draws and reviews, members declare and
score, the officer ranks and awards, a bidder challenges and the officer answers. Bad
input on every form (NUL, out of range, empty) → a clear message, nothing stored."""

from __future__ import annotations

from sqlalchemy import func, select

from procure.documents.models import Document
from procure.roles import Role
from procure.tenders import award as aw
from procure.tenders import evaluation as ev
from procure.tenders.models import (
    AwardDecision,
    BidState,
    Challenge,
    ChallengeState,
    CommitteeDraw,
    Score,
    Tender,
    TenderState,
)
from tests.conftest import login

from .evaluation_setup import opened_tender

ERROR = ("invalid-feedback", "alert-danger")


def _as(client, user):
    from procure.extensions import limiter

    limiter.reset()  # many sign-ins in one test
    c = client.application.test_client()
    assert login(c, user.username).status_code == 302
    return c


def _error(resp) -> bool:
    body = resp.get_data(as_text=True)
    return resp.status_code == 400 and any(e in body for e in ERROR)


def _count(db, model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_whole_evaluation_through_the_pages(db, make, client):
    o = opened_tender(make, ["80000.00", "100000.00", "90000.00"])
    org_user = make.user(Role.ORG, organization=o.orgs[0])
    db.session.commit()
    tid = o.tender.id
    off = _as(client, o.officer)
    page = off.get(f"/evaluation/tenders/{tid}/committee")
    assert page.status_code == 200 and o.orgs[0].name in page.get_data(as_text=True)
    # The draw: bad sizes, then the method's minimum.
    for bad in ("4", "3", "a\x00b", "9" * 400):
        assert _error(off.post(f"/evaluation/tenders/{tid}/draw", data={"size": bad})), bad
        assert _count(db, CommitteeDraw) == 0
    assert off.post(f"/evaluation/tenders/{tid}/draw", data={"size": ""}).status_code == 302
    assert _count(db, CommitteeDraw) == 1
    tender = db.session.get(Tender, tid)
    members = ev.members_of(tender)
    # Declarations through the page: a conflict without a note is refused.
    first = _as(client, members[0].user)
    assert _error(first.post(f"/evaluation/tenders/{tid}/declare", data={"d-has_conflict": "y", "d-note": ""}))
    assert _error(first.post(f"/evaluation/tenders/{tid}/declare", data={"d-has_conflict": "y",
                                                                          "d-note": "a\x00b"}))
    for m in members:
        assert _as(client, m.user).post(f"/evaluation/tenders/{tid}/declare", data={}).status_code == 302
    # Qualification review: bad input, then every bid qualified.
    bids = sorted(tender.bids, key=lambda b: b.id)
    b0 = bids[0]
    for data in ({f"r{b0.id}-decision": "maybe"}, {f"r{b0.id}-decision": "disqualified", f"r{b0.id}-reason": ""},
                 {f"r{b0.id}-decision": "disqualified", f"r{b0.id}-reason": "documents_missing",
                  f"r{b0.id}-note": "a\x00b"}):
        assert _error(off.post(f"/evaluation/tenders/{tid}/bids/{b0.id}/review", data=data)), data
        db.session.expire_all()
        assert db.session.get(type(b0), b0.id).state == BidState.OPENED
    for b in bids:
        assert off.post(f"/evaluation/tenders/{tid}/bids/{b.id}/review",
                        data={f"r{b.id}-decision": "qualified"}).status_code == 302
    assert off.post(f"/evaluation/tenders/{tid}/start", data={}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Tender, tid).state == TenderState.EVALUATING
    # Members read the proposals they score.
    page = _as(client, members[1].user).get(f"/evaluation/tenders/{tid}/member").get_data(as_text=True)
    assert f"{o.orgs[2].name}的方案正文" in page
    # Scores through the page, every member the same.
    crit = next(c for c in tender.criteria if not c.is_price)
    for m, given in zip(members, ("60", "61", "62", "63", "64"), strict=True):
        data = {f"s_{b.id}_{crit.id}": given for b in bids} | {"submit": "1"}
        assert _as(client, m.user).post(f"/evaluation/tenders/{tid}/scores", data=data).status_code == 302
    assert _count(db, Score) == 15
    # Ranking and award.
    assert off.post(f"/evaluation/tenders/{tid}/rank", data={}).status_code == 302
    page = off.get(f"/evaluation/tenders/{tid}/results").get_data(as_text=True)
    assert "92.00" in page and "92.000" not in page  # 62 (mean) + 30 for the lowest price; two decimals
    tender = db.session.get(Tender, tid)
    top = aw.next_in_line(tender)
    assert _error(off.post(f"/evaluation/tenders/{tid}/pass/{top.id}", data={"pass-reason": ""}))
    assert _error(off.post(f"/evaluation/tenders/{tid}/pass/{top.id}", data={"pass-reason": "a\x00b"}))
    assert _count(db, AwardDecision) == 0
    assert off.post(f"/evaluation/tenders/{tid}/award/{top.id}", data={}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Tender, tid).state == TenderState.AWARDED
    # A second award (a stale page): refused with a message.
    resp = off.post(f"/evaluation/tenders/{tid}/award/{top.id}", data={})
    assert resp.status_code == 400 and "alert-danger" in resp.get_data(as_text=True)
    # The bidder sees the result and challenges.
    org = _as(client, org_user)
    page = org.get(f"/evaluation/tenders/{tid}/outcome")
    assert page.status_code == 200 and top.organization.name in page.get_data(as_text=True)
    for data in ({"reason": ""}, {"reason": "a\x00b"}):
        assert _error(org.post(f"/evaluation/tenders/{tid}/challenge", data=data))
    assert _count(db, Challenge) == 0
    import io

    resp = org.post(f"/evaluation/tenders/{tid}/challenge", content_type="multipart/form-data",
                    data={"reason": "价格分计算有误", "files": (io.BytesIO(b"%PDF-1.4 evidence"), "证据.pdf")})
    assert resp.status_code == 302
    challenge = db.session.scalar(select(Challenge))
    assert challenge.state == ChallengeState.OPEN
    doc = db.session.scalar(select(Document).where(Document.object_type == "challenges"))
    assert doc is not None and doc.filename == "证据.pdf"
    # The officer answers.
    page = off.get(f"/evaluation/tenders/{tid}/challenges").get_data(as_text=True)
    assert "价格分计算有误" in page and "证据.pdf" in page
    assert _error(off.post(f"/evaluation/challenges/{challenge.id}/answer", data={f"a{challenge.id}-answer": ""}))
    assert _error(off.post(f"/evaluation/challenges/{challenge.id}/answer",
                           data={f"a{challenge.id}-answer": "a\x00b"}))
    assert off.post(f"/evaluation/challenges/{challenge.id}/answer",
                    data={f"a{challenge.id}-answer": "经复核，计算无误。"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Challenge, challenge.id).state == ChallengeState.ANSWERED
    page = org.get(f"/evaluation/tenders/{tid}/outcome").get_data(as_text=True)
    assert "经复核，计算无误。" in page
    # Pages read as labels, never raw states.
    for path in (f"/evaluation/tenders/{tid}/committee", f"/evaluation/tenders/{tid}/results",
                 f"/evaluation/tenders/{tid}/challenges", f"/evaluation/tenders/{tid}/outcome"):
        body = off.get(path).get_data(as_text=True)
        for raw in (">awarded<", ">qualified<", ">declared<", ">evaluating<", ">answered<"):
            assert raw not in body, (path, raw)


def test_an_organization_without_a_bid_sees_no_outcome(db, make, client):
    o = opened_tender(make, ["80000.00", "100000.00", "90000.00"], pool=0)
    outsider = make.user(Role.ORG)
    stranger = make.user(Role.OFFICER)
    db.session.commit()
    for user in (outsider, stranger):
        c = _as(client, user)
        for path in ("outcome", "committee", "results", "challenges"):
            assert c.get(f"/evaluation/tenders/{o.tender.id}/{path}").status_code == 403, (user.role, path)
        assert c.post(f"/evaluation/tenders/{o.tender.id}/challenge", data={"reason": "x"}).status_code in (403, 400)
    assert _count(db, Challenge) == 0


def test_the_admin_sets_the_evaluator_pool(db, make, client):
    from procure.tenders.evaluators import EvaluatorField

    admin = make.admin()
    cat_a, cat_b = make.category(), make.category()
    evaluator = make.user(Role.EVALUATOR)
    officer = make.user(Role.OFFICER)
    db.session.commit()
    assert _as(client, officer).get("/evaluation/evaluators").status_code == 403
    c = _as(client, admin)
    page = c.get("/evaluation/evaluators")
    assert page.status_code == 200 and evaluator.name in page.get_data(as_text=True)
    url = f"/evaluation/evaluators/{evaluator.id}"
    p = f"u{evaluator.id}-"
    for bad in ("999999", "a\x00b", "9" * 400):
        assert _error(c.post(url, data={p + "categories": [str(cat_a.id), bad], p + "is_expert": "y"})), bad
        assert _count(db, EvaluatorField) == 0
    assert c.post(url, data={p + "categories": [str(cat_a.id), str(cat_b.id)], p + "is_expert": "y"}).status_code == 302
    assert ev.evaluator_pool(cat_a.id) == [{"user_id": evaluator.id, "is_expert": True}]
    assert c.post(url, data={p + "categories": [str(cat_b.id)]}).status_code == 302
    assert ev.evaluator_pool(cat_a.id) == []
    assert ev.evaluator_pool(cat_b.id) == [{"user_id": evaluator.id, "is_expert": False}]
    # Only evaluators have fields.
    assert _error(c.post(f"/evaluation/evaluators/{officer.id}", data={f"u{officer.id}-categories": [str(cat_a.id)]}))
