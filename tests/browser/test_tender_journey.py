"""A call for bids from publication to a final award, through the real browser, each
person in their own browser session: an officer creates and publishes a call; two
organizations bid, one withdraws and resubmits; the public portal shows the call; the
bids open (the time events applied as the beat applies them, the tender's times moved
into the past); the opening record is on the portal; three evaluators declare and score;
the officer reviews, ranks and awards; the portal shows the award; a bidder lodges a
challenge and the officer answers it; once the windows have passed the award is final.

Screenshots of the key steps go to test-artifacts/tender-journey/."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import Page, expect
from sqlalchemy import update

from procure import create_app
from procure.roles import Role
from procure.tenders import events
from procure.tenders.bidding import earliest_deadline
from procure.tenders.models import Bid, BidState, Challenge, ChallengeState, MemberState, Tender, TenderState
from procure.timeutil import to_local, utcnow

from ..conftest import app_config
from ..tenders.evaluation_setup import eligible_org, evaluators
from .conftest import serving
from .journey import Journey

pytestmark = pytest.mark.browser

#: Two bidders are enough for this call (the consultation method asks three by default).
OVERRIDES = {"tender.min_bids.consultation": 2}
TITLE = "渝中区居家养老上门服务竞争性磋商"


def zh(label) -> str:
    with force_locale("zh_CN"):
        return str(label)


def _local(at) -> str:
    return to_local(at).strftime("%Y-%m-%dT%H:%M")


class TenderJourney(Journey):
    def no_raw_text(self, pg: Page) -> None:
        """A Chinese page: no English sentence, no raw key or enum value."""
        body = pg.locator("main, .container").first.inner_text()
        for raw in ("evaluating", "awarded", "committee_member", "tender.", "None", "_id"):
            assert raw not in body, (pg.url, raw)


def _bid(j: Journey, pg: Page, tender_id: int, price: str, proposal: str) -> None:
    j.go(pg, f"/tenders/calls/{tender_id}/bid")
    pg.fill("#price", price)
    pg.fill("#proposal", proposal)
    pg.select_option("#breakdown-0-category", "personnel")
    pg.fill("#breakdown-0-amount", price)
    pg.click("#submit_bid")
    expect(pg.locator("body")).to_contain_text("回执")


def _move_times(db, tender_id: int, **fields) -> None:
    db.session.execute(update(Tender).where(Tender.id == tender_id).values(**fields))
    db.session.commit()


def _apply_until(db, tender_id: int, state: TenderState) -> None:
    for _ in range(3):
        events.apply_due_events()
        db.session.expire_all()
        if db.session.get(Tender, tender_id).state == state:
            return
    raise AssertionError(db.session.get(Tender, tender_id).state)


def test_a_call_from_publication_to_final_award(app, db, make, browser, artifacts, monkeypatch):
    monkeypatch.setitem(app.config, "POLICY_OVERRIDES", {**(app.config.get("POLICY_OVERRIDES") or {}), **OVERRIDES})
    shots = artifacts / "tender-journey"
    shots.mkdir(exist_ok=True)
    officer = make.user(Role.OFFICER)
    category = make.category("居家养老服务")
    project = make.approved_project(officer, make.appropriation(officer.department), category=category,
                                    title="2026年渝中区居家养老服务项目")
    orgs = [eligible_org(make, n) for n in ("同心养老服务中心", "阳光社工事务所")]
    staff = [make.user(Role.ORG, organization=o) for o in orgs]
    panel = evaluators(make, category, 3)
    make.commit()
    tender_id = None

    live = create_app("testing", **app_config(WTF_CSRF_ENABLED=True, POLICY_OVERRIDES=dict(OVERRIDES)))
    with serving(app, live) as base:
        j = TenderJourney(browser, base, shots)

        # --- the officer creates and publishes the call ---------------------------------------
        off = j.page(officer)
        j.go(off, "/tenders/new")
        published = utcnow() + timedelta(minutes=5)
        deadline = earliest_deadline("consultation", published) + timedelta(days=1)
        off.select_option("#project_id", str(project.id))
        off.fill("#title", TITLE)
        off.fill("#description", "为辖区高龄独居老人提供上门助餐、助洁和陪护服务。")
        off.select_option("#method", "consultation")
        off.fill("#published_at", _local(published))
        off.fill("#deadline_at", _local(deadline))
        off.fill("#opening_at", _local(deadline))
        off.fill("#price_weight", "30")
        off.fill("#criteria-0-name", "服务方案")
        off.fill("#criteria-0-weight", "50")
        off.fill("#criteria-0-max_score", "50")
        off.fill("#criteria-1-name", "团队经验")
        off.fill("#criteria-1-weight", "20")
        off.fill("#criteria-1-max_score", "20")
        off.click("#submit")
        off.wait_for_url(re.compile(r"/tenders/\d+$"))
        tender_id = int(off.url.rsplit("/", 1)[1])
        off.click("form[action$='/publish'] [type=submit]")
        expect(off.locator("#tender-state")).to_have_text(zh(TenderState.PUBLISHED.label))
        j.shot(off, "01-officer-published")
        j.no_raw_text(off)

        # --- two organizations bid; the second withdraws and resubmits --------------------------
        first, second = j.page(staff[0]), j.page(staff[1])
        j.go(first, "/tenders/calls")
        first.get_by_role("link", name=TITLE).click()
        expect(first.locator("#my-bid")).to_contain_text("准备投标")
        _bid(j, first, tender_id, "68000.00", "同心方案：每周三次上门助餐与助洁。")
        j.shot(first, "02-first-receipt")
        _bid(j, second, tender_id, "75000.00", "阳光方案：社工加志愿者的陪护服务。")
        j.go(second, f"/tenders/calls/{tender_id}")
        second.click("form[action$='/withdraw'] button")
        expect(second.locator("#my-bid")).to_contain_text(zh(BidState.WITHDRAWN.label))
        second.get_by_role("link", name="继续编辑投标").click()
        second.fill("#price", "72000.00")
        second.fill("#breakdown-0-amount", "72000.00")
        second.click("#submit_bid")
        expect(second.locator("body")).to_contain_text("回执")
        j.go(second, "/tenders/bids")
        expect(second.locator("#bids")).to_contain_text(zh(BidState.SUBMITTED.label))
        j.shot(second, "03-second-my-bids")

        # --- the portal shows the call, nothing of the bids ----------------------------------
        visitor = j.page()
        j.go(visitor, "/portal/")
        visitor.get_by_role("link", name=TITLE).click()
        expect(visitor.locator("h1")).to_contain_text(TITLE)
        body = visitor.locator("body").inner_text()
        assert "同心养老服务中心" not in body and "68,000" not in body and "72,000" not in body
        j.shot(visitor, "04-portal-call")

        # --- the deadline and the opening pass: the beat's function opens the bids ------------
        now = utcnow()
        _move_times(db, tender_id, deadline_at=now - timedelta(seconds=2), opening_at=now - timedelta(seconds=1),
                    next_event_at=now - timedelta(seconds=2))
        _apply_until(db, tender_id, TenderState.CLOSED)
        assert db.session.get(Tender, tender_id).opened_at is not None
        visitor.reload()
        expect(visitor.locator("#opening-record")).to_contain_text("同心养老服务中心")
        expect(visitor.locator("#opening-record")).to_contain_text("72,000.00")
        j.shot(visitor, "05-portal-opening-record")

        # --- the officer draws the committee; the members declare -----------------------------
        j.go(off, f"/tenders/{tender_id}")
        off.locator("#next-step a").click()
        off.click("form[action$='/draw'] [type=submit]")
        expect(off.locator("#members tbody tr")).to_have_count(3)
        members = [j.page(u) for u in panel]
        for pg in members:
            pg.get_by_role("link", name="我的评审").first.click()
            pg.locator(f"a[href$='/evaluation/tenders/{tender_id}/member']").first.click()
            expect(pg.locator("#bidder-names")).to_contain_text("阳光社工事务所")
            pg.click("form[action$='/declare'] [type=submit]")
            expect(pg.locator("body")).to_contain_text(zh(MemberState.DECLARED.label))
        j.shot(members[0], "06-member-declared")

        # --- the qualification review, the evaluation starts ----------------------------------
        j.go(off, f"/evaluation/tenders/{tender_id}/committee")
        for bid_id in sorted(b.id for b in db.session.query(Bid).filter_by(tender_id=tender_id)):
            form = off.locator(f"form[action$='/bids/{bid_id}/review']")
            form.locator("input[value=qualified]").check()
            form.locator("[type=submit]").click()
            expect(off.locator(".alert-success").first).to_be_visible()
        j.shot(off, "07-officer-committee")
        off.click("form[action$='/start'] [type=submit]")
        expect(off.locator("#tender-state")).to_have_text(zh(TenderState.EVALUATING.label))

        # --- three evaluators score --------------------------------------------------------------
        for i, pg in enumerate(members):
            pg.reload()
            inputs = pg.locator("#score-form input[name^=s_]")
            expect(inputs).to_have_count(4)
            for k in range(4):
                inputs.nth(k).fill(str([45, 18, 40, 15][k] - i))
            pg.click("#score-form #submit")
            expect(pg.locator("#locked")).to_be_visible()
        j.shot(members[2], "08-member-scored")

        # --- the officer ranks and awards ------------------------------------------------------------
        j.go(off, f"/tenders/{tender_id}")
        off.locator("#next-step a").click()
        off.click("form[action$='/rank'] [type=submit]")
        expect(off.locator("#ranking tbody tr")).to_have_count(2)
        expect(off.locator("#ranking tbody tr").first).to_contain_text("同心养老服务中心")
        off.click("form[action*='/award/'] [type=submit]")
        expect(off.locator("#tender-state")).to_have_text(zh(TenderState.AWARDED.label))
        expect(off.locator("#award-facts")).to_be_visible()
        j.shot(off, "09-officer-awarded")
        j.no_raw_text(off)

        visitor.reload()
        expect(visitor.locator("#award-notice")).to_contain_text("同心养老服务中心")
        expect(visitor.locator("#award-notice")).to_contain_text("68,000.00")
        expect(visitor.locator("#call-state")).to_have_text(zh(TenderState.AWARDED.label))
        j.shot(visitor, "10-portal-award")

        # --- the losing bidder challenges; the officer answers ----------------------------------
        j.go(second, f"/tenders/calls/{tender_id}")
        second.locator("#outcome-link").click()
        second.fill("textarea[name=reason]", "我方报价更低，技术评分与方案内容不符，请复核。")
        second.click("form[action$='/challenge'] [type=submit]")
        expect(second.locator("body")).to_contain_text("质疑")
        j.shot(second, "11-second-challenged")
        j.go(off, f"/tenders/{tender_id}")
        off.locator("#next-step a").click()
        off.fill("form[action$='/answer'] textarea", "经复核，评分依据评审标准，结果维持。")
        off.click("form[action$='/answer'] [type=submit]")
        expect(off.locator("body")).to_contain_text("经复核")
        j.shot(off, "12-officer-answered")
        db.session.expire_all()
        assert db.session.query(Challenge).filter_by(tender_id=tender_id).one().state == ChallengeState.ANSWERED

        # --- the publicity and the challenge window pass: the award is final -------------------
        now = utcnow()
        _move_times(db, tender_id, publicity_ends_at=now - timedelta(minutes=2),
                    challenge_ends_at=now - timedelta(minutes=1), next_event_at=now - timedelta(minutes=2))
        _apply_until(db, tender_id, TenderState.FINAL)
        j.go(off, f"/tenders/{tender_id}")
        expect(off.locator("#tender-state")).to_have_text(zh(TenderState.FINAL.label))
        j.shot(off, "13-officer-final")
        visitor.reload()
        expect(visitor.locator("#call-state")).to_have_text(zh(TenderState.FINAL.label))
        with force_locale("zh_CN"):
            expect(visitor.locator("body")).to_contain_text(gettext("The award is final."))
        j.shot(visitor, "14-portal-final")
        won = db.session.get(Tender, tender_id).awarded_bid_id
        assert db.session.get(Bid, won).organization_id == orgs[0].id
        assert db.session.get(Bid, won).state == BidState.AWARDED
        for pg in j.pages:
            pg.context.close()
