"""One product: the officer's tender page leads to the evaluation pages that fit the
tender's state (and they lead back), with only the next step the officer may take; the
bidder's call page and "my bids" lead to the result and the challenge form after the
award; the evaluator finds the assignments in the menu. Every such link opens."""

from __future__ import annotations

import re

from procure.roles import Role
from procure.tenders import award as aw
from procure.tenders import evaluation as ev
from procure.tenders.models import TenderState
from tests.conftest import login

from .evaluation_setup import opened_tender
from .test_award import ranked

_TAB = re.compile(r'data-tab="([a-z_.]+)" href="([^"]+)"')


def _as(client, user):
    from procure.extensions import limiter

    limiter.reset()
    c = client.application.test_client()
    assert login(c, user.username).status_code == 302
    return c


def _page(c, url) -> str:
    resp = c.get(url)
    assert resp.status_code == 200, url
    return resp.get_data(as_text=True)


def _tabs(c, tender) -> dict:
    html = _page(c, f"/tenders/{tender.id}")
    tabs = dict(_TAB.findall(html))
    for endpoint, url in tabs.items():  # every tab opens and leads back to the call
        body = _page(c, url)
        assert f'href="/tenders/{tender.id}"' in body, endpoint
    return tabs


def _next_step(c, tender) -> str:
    html = _page(c, f"/tenders/{tender.id}")
    return html.split('id="next-step"', 1)[1].split("</div></div>", 1)[0] if 'id="next-step"' in html else ""


def test_the_tender_page_follows_the_state(db, make, client):
    o = opened_tender(make, ["60000.00", "50000.00"])
    db.session.commit()
    officer = _as(client, o.officer)
    assert set(_tabs(officer, o.tender)) == {"tenders.detail", "evaluation.committee"}
    assert f"/evaluation/tenders/{o.tender.id}/committee" in _next_step(officer, o.tender)


def test_from_award_to_challenge_and_back(db, make, client):
    o = ranked(make)
    db.session.commit()
    officer = _as(client, o.officer)
    assert set(_tabs(officer, o.tender)) == {"tenders.detail", "evaluation.committee", "evaluation.results"}
    step = _next_step(officer, o.tender)
    assert f"/evaluation/tenders/{o.tender.id}/results" in step and "/committee" not in step

    top = next(b for b in o.bids if b.rank == 1)
    loser = next(b for b in o.bids if b.rank == 3)
    aw.award_bid(o.officer, o.tender, top)
    db.session.commit()
    assert o.tender.state == TenderState.AWARDED
    assert set(_tabs(officer, o.tender)) == {"tenders.detail", "evaluation.committee", "evaluation.results",
                                             "evaluation.challenges", "evaluation.outcome"}
    assert "/challenges" not in _next_step(officer, o.tender)  # nothing to answer yet

    staff = make.user(Role.ORG, organization=loser.organization)
    make.commit()
    bidder = _as(client, staff)
    outcome = f"/evaluation/tenders/{o.tender.id}/outcome"
    assert f'href="{outcome}"' in _page(bidder, f"/tenders/calls/{o.tender.id}")
    assert f'href="{outcome}"' in _page(bidder, "/tenders/bids")
    body = _page(bidder, outcome)
    assert f'href="/tenders/calls/{o.tender.id}"' in body and 'name="reason"' in body
    assert 'id="tender-tabs"' not in body  # the officer's pages are not offered to a bidder

    aw.lodge_challenge(staff, o.tender, "评分有误")
    db.session.commit()
    assert f"/evaluation/tenders/{o.tender.id}/challenges" in _next_step(officer, o.tender)


def test_an_evaluator_finds_the_assignments_in_the_menu(db, make, client):
    o = opened_tender(make, ["60000.00", "50000.00"])
    ev.draw_committee(o.officer, o.tender, None, seed="menu")
    member = ev.members_of(o.tender)[0]
    db.session.commit()
    c = _as(client, member.user)
    home = _page(c, "/dashboard")
    assert 'href="/evaluation/mine"' in home
    mine = _page(c, "/evaluation/mine")
    assert f'href="/evaluation/tenders/{o.tender.id}/member"' in mine
    assert 'href="/evaluation/mine"' in _page(c, f"/evaluation/tenders/{o.tender.id}/member")
    # the tender's own page (from "Calls for bids") leads the member to the seat
    assert f'href="/evaluation/tenders/{o.tender.id}/member"' in _page(c, f"/tenders/{o.tender.id}")
