"""Qualification review and scoring: the price formula, totals and ranking on worked
examples computed by hand (ties included), scores locked once submitted, bad input."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from procure.errors import Conflict, InvalidTransition, NotPermitted, ValidationError
from procure.projects.models import ProjectState
from procure.tenders import evaluation as ev
from procure.tenders.models import BidState, Score, TenderState

from .evaluation_setup import committee, en, evaluating, opened_tender, score_all

D = Decimal
CRITERIA = [("服务方案", "40", "100"), ("团队", "30", "30")]


def test_the_price_formula():
    # lowest valid price / price × price weight, three decimals half up.
    assert ev.price_score(D("80000"), D("80000"), D("30")) == D("30.000")
    assert ev.price_score(D("80000"), D("100000"), D("30")) == D("24.000")
    assert ev.price_score(D("80000"), D("90000"), D("30")) == D("26.667")  # 26.6666…
    assert ev.price_score(D("70000"), D("90000"), D("10")) == D("7.778")  # 7.7777…
    assert ev.price_score(D("1"), D("8"), D("10")) == D("1.250")
    assert ev.price_score(D("0"), D("0"), D("10")) == D("10.000")


def test_totals_and_ranking_by_hand(db, make):
    o = opened_tender(make, ["80000.00", "100000.00", "90000.00"], criteria=CRITERIA)
    members = evaluating(make, o)
    assert o.tender.state == TenderState.EVALUATING and len(members) == 5
    A, B, C = 0, 1, 2
    table = []
    for i in range(5):
        row = {A: {"服务方案": "80", "团队": "20"},
               B: {"服务方案": "95" if i >= 3 else "90", "团队": "25"},
               C: {"服务方案": "85", "团队": "22" if i == 4 else "21"}}
        table.append(row)
    score_all(o, members, table)
    ranked = ev.rank_bids(o.officer, o.tender)
    by_bid = {r.bid.id: r for r in ranked}
    # A: 80/100×40 + 20/30×30 = 32 + 20 = 52; price 80000/80000×30 = 30 → 82.
    a = by_bid[o.bids[A].id]
    assert (a.technical, a.price_score, a.total) == (D("52.000"), D("30.000"), D("82.000"))
    # B: members 61, 61, 61, 63, 63 → 61.8; price 80000/100000×30 = 24 → 85.8.
    b = by_bid[o.bids[B].id]
    assert (b.technical, b.price_score, b.total) == (D("61.800"), D("24.000"), D("85.800"))
    # C: members 55, 55, 55, 55, 56 → 55.2; price 80000/90000×30 = 26.667 → 81.867.
    c = by_bid[o.bids[C].id]
    assert (c.technical, c.price_score, c.total) == (D("55.200"), D("26.667"), D("81.867"))
    assert [r.bid.id for r in ranked] == [o.bids[B].id, o.bids[A].id, o.bids[C].id]
    db.session.commit()
    for bid, rank, total in ((o.bids[B], 1, "85.800"), (o.bids[A], 2, "82.000"), (o.bids[C], 3, "81.867")):
        db.session.refresh(bid)
        assert (bid.state, bid.rank, bid.total_score) == (BidState.SCORED, rank, D(total))
    with pytest.raises(Conflict):
        ev.rank_bids(o.officer, o.tender)


def test_ties_broken_by_price_then_technical_then_submission(db, make):
    # Default criteria: 服务方案 weight 70 of 70 (score = technical), price weight 30.
    o = opened_tender(make, ["80000.00", "100000.00", "80000.00"])
    o.bids[0].submitted_at -= timedelta(hours=2)  # X was submitted before Z
    members = evaluating(make, o)
    # X: 50 + 30 = 80; Y: 56 + 24 = 80 (equal total, higher price); Z: equal to X.
    table = [{0: {"服务方案": "50"}, 1: {"服务方案": "56"}, 2: {"服务方案": "50"}} for _ in members]
    score_all(o, members, table)
    ranked = ev.rank_bids(o.officer, o.tender)
    assert [r.total for r in ranked] == [D("80.000")] * 3
    assert [r.bid.id for r in ranked] == [o.bids[0].id, o.bids[2].id, o.bids[1].id]
    assert [r.rank for r in ranked] == [1, 2, 3]


def test_ties_on_total_and_price_go_to_the_technical_score(db, make):
    """Equal rounded totals, equal prices, different technical scores (the rounding of
    the parts): the higher technical score first."""
    o = opened_tender(make, ["80000.00", "80000.00", "70000.00"], pool=0)
    o.bids[1].submitted_at -= timedelta(hours=2)  # the second was earlier: technical decides anyway
    results = [ev.BidResult(o.bids[1], D("52.000"), D("30.000"), D("82.001")),
               ev.BidResult(o.bids[0], D("52.001"), D("30.000"), D("82.001")),
               ev.BidResult(o.bids[2], D("40.000"), D("42.001"), D("82.001"))]
    results.sort(key=ev.ranking_key)
    # The lowest price first; of the two at 80000 the higher technical score.
    assert [r.bid for r in results] == [o.bids[2], o.bids[0], o.bids[1]]


def test_scores_lock_once_submitted(db, make):
    o = opened_tender(make, ["80000.00", "90000.00", "95000.00"])
    members = evaluating(make, o)
    m = members[0]
    crit = o.criterion("服务方案")
    ev.save_scores(m.user, o.tender, {(o.bids[0].id, crit.id): "60"})
    ev.save_scores(m.user, o.tender, {(o.bids[0].id, crit.id): "61.5"})  # a draft may change
    with pytest.raises(ValidationError) as exc:  # incomplete
        ev.save_scores(m.user, o.tender, {}, submit=True)
    assert "2 missing" in en(exc.value.message)
    ev.save_scores(m.user, o.tender, {(o.bids[1].id, crit.id): "50", (o.bids[2].id, crit.id): "40"}, submit=True)
    db.session.commit()
    with pytest.raises(Conflict) as exc:
        ev.save_scores(m.user, o.tender, {(o.bids[0].id, crit.id): "70"})
    assert "locked" in en(exc.value.message)
    db.session.rollback()
    assert db.session.scalar(select(Score.score).where(Score.member_id == m.id, Score.bid_id == o.bids[0].id)) \
        == D("61.50")
    # Not everyone submitted: no ranking.
    with pytest.raises(ValidationError):
        ev.rank_bids(o.officer, o.tender)
    # Someone who is not a declared member cannot score.
    with pytest.raises(NotPermitted):
        ev.save_scores(o.officer, o.tender, {(o.bids[0].id, crit.id): "1"})


@pytest.mark.parametrize("raw, words", [
    ("71", "from 0 to 70"), ("-1", "from 0 to 70"), ("50.123", "two decimals"), ("5\x000", "number"),
    ("abc", "number"), ("NaN", "number"), ("Infinity", "number"), ("1e3", "from 0 to 70"),
    ("9" * 400, "number")])
def test_bad_scores_are_refused_and_nothing_stored(db, make, raw, words):
    o = opened_tender(make, ["80000.00", "90000.00", "95000.00"])
    members = evaluating(make, o)
    crit = o.criterion("服务方案")
    with pytest.raises(ValidationError) as exc:
        ev.save_scores(members[0].user, o.tender, {(o.bids[0].id, crit.id): "60", (o.bids[1].id, crit.id): raw},
                       submit=False)
    assert words in en(exc.value.message)
    assert o.orgs[1].name in en(exc.value.message)
    assert db.session.scalar(select(func.count()).select_from(Score)) == 0


def test_bad_scores_on_the_page(db, make, client):
    from tests.conftest import login

    o = opened_tender(make, ["80000.00", "90000.00", "95000.00"])
    members = evaluating(make, o)
    crit = o.criterion("服务方案")
    db.session.commit()
    assert login(client, members[0].user.username).status_code == 302
    page = client.get(f"/evaluation/tenders/{o.tender.id}/member")
    assert page.status_code == 200 and o.orgs[0].name in page.get_data(as_text=True)
    for bad in ("80", "1.234", "a\x00b", "9" * 400):
        data = {f"s_{b.id}_{crit.id}": "10" for b in o.bids}
        data[f"s_{o.bids[2].id}_{crit.id}"] = bad
        data["submit"] = "1"
        resp = client.post(f"/evaluation/tenders/{o.tender.id}/scores", data=data)
        assert resp.status_code == 400, bad
        body = resp.get_data(as_text=True)
        assert "invalid-feedback" in body or "alert-danger" in body
        assert db.session.scalar(select(func.count()).select_from(Score)) == 0
    data = {f"s_{b.id}_{crit.id}": "10.5" for b in o.bids}
    data["submit"] = "1"
    assert client.post(f"/evaluation/tenders/{o.tender.id}/scores", data=data).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Score).where(Score.submitted_at.is_not(None))) == 3


def test_qualification_review(db, make):
    o = opened_tender(make, ["80000.00", "120000.00", "90000.00", "85000.00"], pool=5)
    above, failed, missing, good = o.bids[1], o.bids[2], o.bids[3], o.bids[0]
    failed.eligibility_failures = ["annual_report"]
    db.session.flush()
    with pytest.raises(ValidationError) as exc:
        ev.review_bid(o.officer, o.tender, above, True)
    assert "ceiling" in en(exc.value.message)
    with pytest.raises(ValidationError) as exc:
        ev.review_bid(o.officer, o.tender, failed, True)
    assert "Eligibility" in en(exc.value.message)
    with pytest.raises(ValidationError):
        ev.review_bid(o.officer, o.tender, missing, False, "nonsense")
    with pytest.raises(ValidationError):
        ev.review_bid(o.officer, o.tender, missing, False, "documents_missing", "缺少\x00")
    # Above the ceiling: the reason is the ceiling, whatever was chosen.
    ev.review_bid(o.officer, o.tender, above, False, "documents_missing")
    assert above.state == BidState.DISQUALIFIED and "120,000.00" in above.disqualification_reason
    ev.review_bid(o.officer, o.tender, failed, False, "eligibility")
    ev.review_bid(o.officer, o.tender, missing, False, "documents_missing", "缺少年度审计报告")
    assert "缺少年度审计报告" in missing.disqualification_reason
    ev.review_bid(o.officer, o.tender, good, True)
    with pytest.raises(Conflict):
        ev.review_bid(o.officer, o.tender, good, False, "documents_missing")
    # One qualified bid, the method needs 3: starting the evaluation fails the tender (流标).
    committee(make, o)
    ev.start_evaluation(o.officer, o.tender)
    assert o.tender.state == TenderState.FAILED and "3" in o.tender.reason
    assert o.project.state == ProjectState.APPROVED


def test_the_evaluation_waits_for_the_review_and_the_committee(db, make):
    o = opened_tender(make, ["80000.00", "90000.00", "95000.00"], pool=5)
    with pytest.raises(ValidationError):
        ev.start_evaluation(o.officer, o.tender)  # bids not reviewed
    for b in o.bids:
        ev.review_bid(o.officer, o.tender, b, True)
    with pytest.raises(ValidationError):
        ev.start_evaluation(o.officer, o.tender)  # no committee
    committee(make, o)
    ev.start_evaluation(o.officer, o.tender)
    assert o.tender.state == TenderState.EVALUATING
    with pytest.raises(InvalidTransition):
        ev.review_bid(o.officer, o.tender, o.bids[0], False, "documents_missing")
