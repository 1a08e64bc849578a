"""Each role's tender work on the dashboard: an organization sees the calls it may bid
on and only its own bids; an evaluator only the tenders it is assigned to; an officer
its department's calls by state with the next time event, and the challenges to
answer. Nobody but the bidding organization learns of a bid before the opening."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from procure import permissions
from procure.extensions import db as _db
from procure.organizations.models import OrgKind
from procure.permissions import can
from procure.projects.models import ProcurementMethod
from procure.roles import Role
from procure.tenders.models import (
    BidState,
    Challenge,
    CommitteeMember,
    MemberState,
    Score,
    TenderEvent,
    TenderState,
)
from procure.timeutil import utcnow
from tests.querycount import page_statements

from ..conftest import login


def _section(html: str, key: str) -> str:
    marker = f'data-worklist="{key}"'
    assert marker in html, key
    return html.split(marker, 1)[1].split("</section>", 1)[0]


@pytest.fixture()
def world(make, db):
    officer = make.user(Role.OFFICER)
    stranger = make.user(Role.OFFICER)
    mine, rival, filed = make.organization("我方社工中心"), make.organization("对手协会"), make.organization(
        "备案社区组织", kind=OrgKind.FILED)
    users = {"mine": make.user(Role.ORG, organization=mine), "rival": make.user(Role.ORG, organization=rival),
             "filed": make.user(Role.ORG, organization=filed)}
    soon = utcnow() + timedelta(days=5)
    t = {
        "open": make.tender(officer, state=TenderState.PUBLISHED, title="公开招标甲", opening_at=soon),
        "single": make.tender(officer, state=TenderState.PUBLISHED, title="单一来源乙",
                              method=ProcurementMethod.SINGLE_SOURCE, single_source_organization_id=rival.id),
        "rated": make.tender(officer, state=TenderState.PUBLISHED, title="需要3A丙", min_rating=3),
        "draft": make.tender(officer, title="草稿丁"),
        "closed": make.tender(officer, state=TenderState.CLOSED, title="已开标戊",
                              opening_at=utcnow() - timedelta(days=1)),
        "other": make.tender(stranger, state=TenderState.PUBLISHED, title="他部门己"),
    }
    t["open"].next_event, t["open"].next_event_at = TenderEvent.DEADLINE, soon
    t["closed"].opened_at = utcnow() - timedelta(days=1)
    bids = {
        "mine_draft": make.bid(t["open"], mine),
        "rival_sealed": make.bid(t["open"], rival, state=BidState.SUBMITTED,
                                 content={"price": "55555.55", "proposal": "对手方案", "breakdown": [],
                                          "attachments": []}),
        "mine_opened": make.bid(t["closed"], mine, state=BidState.QUALIFIED),
    }
    evaluators = {"assigned": make.user(Role.EVALUATOR), "drawn": make.user(Role.EVALUATOR),
                  "outsider": make.user(Role.EVALUATOR)}
    _db.session.add_all([
        CommitteeMember(tender_id=t["closed"].id, user_id=evaluators["assigned"].id, position=0,
                        state=MemberState.DECLARED, declared_at=utcnow() - timedelta(hours=20)),
        CommitteeMember(tender_id=t["open"].id, user_id=evaluators["drawn"].id, position=0)])
    make.commit()
    return {"officer": officer, "stranger": stranger, "users": users, "tenders": t, "bids": bids,
            "evaluators": evaluators, "orgs": {"mine": mine, "rival": rival, "filed": filed}}


def _dashboard(client, user) -> str:
    client.post("/logout")
    assert login(client, user.username).status_code == 302
    resp = client.get("/dashboard")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_an_organization_sees_the_calls_it_may_bid_on_and_only_its_own_bids(client, world):
    html = _dashboard(client, world["users"]["mine"])
    calls = _section(html, "tender.open_calls")
    # 甲 holds the organization's draft bid: it is listed under the bids, with the bid's step
    assert "公开招标甲" not in calls and "需要3A丙" not in calls and "单一来源乙" not in calls
    assert "草稿丁" not in calls and "已开标戊" not in calls and "他部门己" in calls
    bids = _section(html, "tender.own_bids")
    assert "公开招标甲" in bids and "在截止前提交" in bids and "已开标戊" in bids
    # nothing of the rival's bid on the same call: its name, price, proposal
    assert "对手协会" not in html and "55,555.55" not in html and "55555.55" not in html and "对手方案" not in html
    assert 'data-queue="tender.unsubmitted_bids"' in html

    rival = _dashboard(client, world["users"]["rival"])
    assert "单一来源乙" in _section(rival, "tender.open_calls")
    assert "公开招标甲" not in _section(rival, "tender.open_calls")  # bid on: under its bids
    own = _section(rival, "tender.own_bids")
    assert "公开招标甲" in own and "开标前密封" in own and "已开标戊" not in own
    assert "我方社工中心" not in rival

    filed = _dashboard(client, world["users"]["filed"])
    assert "公开招标甲" not in _section(filed, "tender.open_calls")  # the call does not admit filed ones


def test_counts_follow_the_rules(app, world):
    from procure.queues import queues_for

    with app.test_request_context():
        counts = {i["queue"].key: i["count"] for i in queues_for(world["users"]["mine"])}
        # the calls not bid on yet (甲 holds each organization's bid: it counts under the bids)
        assert counts["tender.open_calls"] == 1 and counts["tender.unsubmitted_bids"] == 1
        counts = {i["queue"].key: i["count"] for i in queues_for(world["users"]["rival"])}
        assert counts["tender.open_calls"] == 2 and counts["tender.unsubmitted_bids"] == 0
        counts = {i["queue"].key: i["count"] for i in queues_for(world["officer"])}
        assert counts["tender.in_progress"] == 5 and "tender.unsubmitted_bids" not in counts
        assert {i["queue"].key: i["count"] for i in queues_for(world["stranger"])}["tender.in_progress"] == 1
        assert {i["queue"].key: i["count"] for i in queues_for(world["evaluators"]["assigned"])}[
            "tender.assignments"] == 1
        assert {i["queue"].key: i["count"] for i in queues_for(world["evaluators"]["outsider"])}[
            "tender.assignments"] == 0
    assert can(world["users"]["mine"], "tender.bid_on", world["tenders"]["open"])
    assert not can(world["users"]["mine"], "tender.bid_on", world["tenders"]["single"])


def test_an_evaluator_sees_only_the_tenders_it_is_assigned_to(client, world, db):
    html = _dashboard(client, world["evaluators"]["assigned"])
    mine = _section(html, "tender.assignments")
    assert "已开标戊" in mine and "评分" in mine and "公开招标甲" not in mine
    drawn = _section(_dashboard(client, world["evaluators"]["drawn"]), "tender.assignments")
    assert "公开招标甲" in drawn and "申报利益冲突" in drawn and "已开标戊" not in drawn
    # before the opening, nothing of the bids, not even to the drawn member
    assert "对手协会" not in drawn and "我方社工中心" not in drawn
    outsider = _dashboard(client, world["evaluators"]["outsider"])
    section = _section(outsider, "tender.assignments")
    assert "公开招标甲" not in section and "已开标戊" not in section
    # once the scores are submitted, the assignment no longer waits
    member = db.session.query(CommitteeMember).filter_by(user_id=world["evaluators"]["assigned"].id).one()
    bid = world["bids"]["mine_opened"]
    db.session.add(Score(member_id=member.id, bid_id=bid.id, criterion_id=world["tenders"]["closed"].criteria[0].id,
                         score=50, submitted_at=utcnow()))
    db.session.commit()
    html = _dashboard(client, world["evaluators"]["assigned"])
    assert 'data-queue="tender.assignments"' in html
    from procure.queues import queues_for

    with client.application.test_request_context():
        assert {i["queue"].key: i["count"] for i in queues_for(world["evaluators"]["assigned"])}[
            "tender.assignments"] == 0


def test_an_officer_sees_its_departments_calls_by_state_and_no_bid(client, world, db, make):
    t = world["tenders"]
    awarded = make.tender(world["officer"], state=TenderState.CLOSED, title="公示中庚",
                          opening_at=utcnow() - timedelta(days=10))
    awarded.opened_at = utcnow() - timedelta(days=10)
    win = make.bid(awarded, world["orgs"]["rival"], state=BidState.AWARDED)
    awarded.state, awarded.awarded_bid_id, awarded.award_notice_at = TenderState.AWARDED, win.id, utcnow()
    due = datetime(2026, 12, 1, 8, 0)
    db.session.add(Challenge(tender_id=awarded.id, organization_id=world["orgs"]["mine"].id, reason="质疑理由",
                             lodged_by_id=world["users"]["mine"].id, answer_due_at=due))
    db.session.commit()
    html = _dashboard(client, world["officer"])
    mine = _section(html, "tender.department")
    titles = ["草稿丁", "公开招标甲", "已开标戊", "公示中庚"]
    positions = [mine.index(x) for x in titles]
    assert positions == sorted(positions)  # by state, in the order a call goes through them
    assert "他部门己" not in mine
    assert "投标截止" in mine  # the next time event
    challenges = _section(html, "tender.challenges")
    assert "公示中庚" in challenges and "答复期限：2026年12月1日 16:00" in challenges  # Beijing time, to the minute
    # before the opening the officer learns nothing of the bids on the open call
    assert "55,555.55" not in html and "对手方案" not in html
    open_row = mine.split("公开招标甲", 1)[1].split("</tr>", 1)[0]
    assert "对手协会" not in open_row and "我方社工中心" not in open_row
    assert t["open"].title in mine
    other = _dashboard(client, world["stranger"])
    assert "公开招标甲" not in _section(other, "tender.department") and 'data-worklist="tender.challenges"' not in other


_count = page_statements


def _more(make, world, n):
    for i in range(n):
        tender = make.tender(world["officer"], state=TenderState.PUBLISHED, title=f"更多{i}")
        make.bid(tender, world["orgs"]["mine"])
        make.bid(tender, world["orgs"]["rival"], state=BidState.SUBMITTED)
        closed = make.tender(world["officer"], state=TenderState.CLOSED, title=f"更多已开标{i}",
                             opening_at=utcnow() - timedelta(days=1))
        closed.opened_at = utcnow() - timedelta(days=1)
        _db.session.add(CommitteeMember(tender_id=closed.id, user_id=world["evaluators"]["assigned"].id,
                                        position=0, state=MemberState.DECLARED, declared_at=utcnow()))
    make.commit()


@pytest.mark.parametrize("who", ["mine", "officer", "assigned"])
def test_dashboard_queries_do_not_grow_with_the_data(app, client, world, make, who):
    user = {"mine": world["users"]["mine"], "officer": world["officer"],
            "assigned": world["evaluators"]["assigned"]}[who]
    client.post("/logout")
    login(client, user.username)
    small = _count(app, client, "/dashboard")
    _more(make, world, 8)
    large = _count(app, client, "/dashboard")
    # the recent actions load names per kind of object (see the budgets' test): bounded
    assert large <= small, (small, large)


_HREF = re.compile(r'href="(/[^"#]*)"')


def test_every_work_list_link_opens_for_its_user(client, world, make):
    """Each item leads to the page where its user acts (no portal or dashboard
    fallback), and that page opens for them: no 403, no 404."""
    officer, mine = world["officer"], world["users"]["mine"]
    awarded = make.tender(officer, state=TenderState.CLOSED, title="公示中辛", opening_at=utcnow() - timedelta(days=9))
    awarded.opened_at = utcnow() - timedelta(days=9)
    won = make.bid(awarded, world["orgs"]["mine"], state=BidState.AWARDED)
    awarded.state, awarded.awarded_bid_id = TenderState.AWARDED, won.id
    awarded.challenge_ends_at, awarded.award_notice_at = utcnow() + timedelta(days=5), utcnow() - timedelta(days=1)
    _db.session.add(Challenge(tender_id=awarded.id, organization_id=world["orgs"]["mine"].id, reason="评分不公",
                              lodged_by_id=mine.id, answer_due_at=utcnow() + timedelta(days=6)))
    t = world["tenders"]
    # the draw gives each member a grant on the tender (the fixture only wrote the rows)
    for who, tender in (("assigned", t["closed"]), ("drawn", t["open"])):
        permissions.grant(officer, world["evaluators"][who], tender, "evaluator", permission="tender.manage")
    permissions.declare_conflict(world["evaluators"]["assigned"], t["closed"], "evaluator", False)
    make.commit()
    expected = {
        "mine": (mine, {f"/tenders/calls/{t['open'].id}/bid", f"/tenders/calls/{t['closed'].id}",
                        f"/evaluation/tenders/{awarded.id}/outcome", f"/tenders/calls/{t['other'].id}"}),
        "assigned": (world["evaluators"]["assigned"], {f"/evaluation/tenders/{t['closed'].id}/member"}),
        "drawn": (world["evaluators"]["drawn"], {f"/evaluation/tenders/{t['open'].id}/member"}),
        "officer": (officer, {f"/tenders/{t['draft'].id}", f"/tenders/{awarded.id}",
                              f"/evaluation/tenders/{awarded.id}/challenges"}),
    }
    for who, (user, wanted) in expected.items():
        html = _dashboard(client, user)
        links = set()
        for key in ("tender.open_calls", "tender.own_bids", "tender.assignments", "tender.challenges",
                    "tender.department"):
            if f'data-worklist="{key}"' in html:
                links |= set(_HREF.findall(_section(html, key)))
        assert wanted <= links, (who, wanted - links)
        assert not any(u.startswith(("/portal", "/dashboard")) for u in links), (who, links)
        for url in sorted(links):
            assert client.get(url).status_code == 200, (who, url)
