"""A contract's delivery through the real browser, each person in their own session: the
organization reports milestone 1 (actuals, spending, an evidence photo), the officer asks
for a revision, the organization resubmits, the officer approves; the officer confirms the
payment, finance approves and records it paid. Milestone 2 goes through the services (it
is the same path). The organization submits the final report with the beneficiaries'
opinion, the officer has a third party's scores entered and decides (passed, 良), the final
installment is paid and the officer closes the project into the archive. The project page
then tells the whole story, and the organization's page shows the grade.

Screenshots of the key steps go to test-artifacts/delivery-journey/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from procure import create_app
from procure.acceptance.models import Acceptance
from procure.delivery import services as ds
from procure.delivery.models import MilestoneReport
from procure.payments.models import Payment, PaymentState
from procure.roles import Role
from procure.timeutil import to_local, utcnow

from ..acceptance.conftest import OPINION, REPORT
from ..conftest import app_config
from ..delivery.conftest import PNG, full_data
from .conftest import serving
from .journey import Journey

pytestmark = pytest.mark.browser
#: What a Chinese page must never show: English state codes, raw keys.
RAW = ("revision_requested", "submitted", "approved", "requested", "passed", "third_party", "None", "_id",
       "retain_until", "basis")


class DeliveryJourney(Journey):
    def readable(self, pg: Page) -> None:
        body = pg.locator("main").inner_text()
        for raw in RAW:
            m = re.search(rf"\b{raw}\b", body)
            assert not m, (pg.url, raw, body[max(0, m.start() - 200):m.end() + 100])


def _state(pg: Page, element_id: str, state: str) -> None:
    expect(pg.locator(f"#{element_id}")).to_have_attribute("data-state", state)


def _pay(j: Journey, db, officer_pg: Page, finance_pg: Page, installment_id: int, voucher: str, shot=None) -> None:
    db.session.expire_all()
    pid = db.session.scalar(select(Payment.id).where(Payment.installment_id == installment_id))
    assert pid is not None, "the installment was not raised"
    j.go(officer_pg, f"/payments/{pid}")
    officer_pg.click(f'form[action$="/payments/{pid}/confirm"] [type=submit]')
    j.go(finance_pg, f"/payments/{pid}")
    finance_pg.click(f'form[action$="/payments/{pid}/approve"] [type=submit]')
    _state(finance_pg, "payment-state", "approved")
    finance_pg.fill("#record-voucher_number", voucher)
    finance_pg.fill("#record-paid_on", to_local(utcnow()).date().isoformat())
    finance_pg.check("#record-confirm")
    finance_pg.click(f'form[action$="/payments/{pid}/record"] [type=submit]')
    _state(finance_pg, "payment-state", "paid")
    if shot:
        j.readable(finance_pg)
        j.shot(finance_pg, shot)
    assert db.session.get(Payment, pid).state == PaymentState.PAID


def _report_form(pg: Page, narrative: str, with_file: bool) -> None:
    pg.fill("#actuals-0-actual", "320")
    pg.fill("#actuals-1-actual", "610")
    pg.fill("#narrative", narrative)
    pg.select_option("#spending-0-category", "personnel")
    pg.fill("#spending-0-amount", "12000.00")
    pg.fill("#spending-0-detail", "社工工资")
    pg.select_option("#spending-1-category", "activities")
    pg.fill("#spending-1-amount", "3500.50")
    pg.fill("#spending-1-detail", "活动物资")
    if with_file:
        pg.set_input_files("#evidence_file", files=[{"name": "签到表.png", "mimeType": "image/png", "buffer": PNG}])
        pg.fill("#evidence_caption", "三月签到表")
    pg.click("#report-form [type=submit]")
    pg.click("#submit-report [type=submit]")
    _state(pg, "report-state", "submitted")


def test_a_contract_delivered_paid_accepted_and_archived(app, db, make, browser, artifacts):
    shots = artifacts / "delivery-journey"
    shots.mkdir(exist_ok=True)
    aw = make.active_contract()
    finance = make.user(Role.FINANCE)
    make.commit()
    contract = aw.contract
    first, second = contract.milestones
    installments = [i.id for i in contract.installments]

    with serving(app, create_app("testing", **app_config(WTF_CSRF_ENABLED=True))) as base:
        j = DeliveryJourney(browser, base, shots)
        org, off, fin = j.page(aw.org_user), j.page(aw.officer), j.page(finance)

        # milestone 1: the organization reports; the officer asks for a revision
        j.go(org, f"/milestones/{first.id}/report")
        _report_form(org, "本期完成助餐服务 3200 人次，探访 150 户。", with_file=True)
        rid = db.session.scalar(select(MilestoneReport.id).where(MilestoneReport.milestone_id == first.id))
        j.go(off, f"/reports/{rid}")
        off.fill('form[action$="/revision"] textarea', "请补充服务照片和签到表原件。")
        off.click('form[action$="/revision"] [type=submit]')
        _state(off, "report-state", "revision_requested")
        # the organization resubmits; the officer approves
        j.go(org, f"/milestones/{first.id}/report")
        expect(org.locator("#revision-comment")).to_contain_text("签到表原件")
        j.readable(org)
        j.shot(org, "01-revision-requested")
        _report_form(org, "本期完成助餐服务 3200 人次，探访 150 户；已补充服务照片。", with_file=False)
        j.go(off, f"/reports/{rid}")
        off.click('form[action$="/approve"] [type=submit]')
        _state(off, "report-state", "approved")
        j.readable(off)
        j.shot(off, "02-report-approved")
        _pay(j, db, off, fin, installments[0], "PZ-2026-0101", shot="03-payment-paid")

        # milestone 2, the same path through the services
        report = ds.save_report(aw.org_user, db.session.merge(second), full_data(2))
        ds.submit_report(aw.org_user, report)
        ds.approve_report(aw.officer, report, "")
        db.session.commit()
        _pay(j, db, off, fin, installments[1], "PZ-2026-0102")

        # the final report with the beneficiaries' opinion
        j.go(org, f"/contracts/{contract.id}/acceptance")
        org.fill("#final_report", REPORT)
        org.fill("#actuals-0", "310")
        org.fill("#actuals-1", "1250.5")
        org.fill("#opinion_text", OPINION)
        org.click("#submit")
        _state(org, "acceptance-state", "submitted")
        aid = db.session.scalar(select(Acceptance.id).where(Acceptance.contract_id == contract.id))
        # a third party evaluates; the officer enters its scores and decides
        j.go(off, f"/acceptances/{aid}")
        off.fill("#org-third_party_name", "重庆某绩效评价事务所")
        off.click('form[action$="/organize"] [type=submit]')
        _state(off, "acceptance-state", "evaluating")
        for field, value in (("budget_execution", "9"), ("outputs", "43"), ("outcomes", "25"),
                             ("satisfaction", "8")):
            off.fill(f"#tp-score_{field}", value)
        off.click('form[action$="/third-party-scores"] [type=submit]')
        off.click('form[action$="/decide"] [type=submit]')
        _state(off, "acceptance-state", "passed")
        expect(off.locator("main")).to_contain_text("良")
        j.readable(off)
        j.shot(off, "04-acceptance-passed")
        _pay(j, db, off, fin, installments[2], "PZ-2026-0103")

        # the officer closes the project into the archive
        j.go(off, "/archive/")
        off.fill(f"#note-{aw.project.id}", "验收合格，款项付清。")
        off.click(f'form[action$="/archive/{aw.project.id}/close"] button')
        expect(off.locator("#retain-until")).to_contain_text("2041年")
        expect(off.locator("main")).to_contain_text("资金拨付通知")  # the payment notices are archived too
        j.shot(off, "05-archived")

        # the project page tells the whole story
        j.go(off, f"/projects/{aw.project.id}")
        page = off.locator("main")
        expect(off.locator('#timeline [data-state="closed"]')).to_have_attribute("data-status", "current")
        for text in (contract.number, "第1阶段服务", "第2阶段服务", "¥60,000.00", "85.00", "良", "结项依据"):
            expect(page).to_contain_text(text)
        expect(off.locator("#project-payments [data-state=paid]")).to_have_count(3)
        expect(off.locator("#project-milestones [data-state=approved]")).to_have_count(2)
        j.readable(off)
        j.shot(off, "06-project-story")

        # the organization's page shows the grade
        j.go(org, f"/organizations/{aw.org.id}")
        expect(org.locator("main")).to_contain_text(contract.number)
        expect(org.locator("main")).to_contain_text("良")
        j.readable(org)
        j.shot(org, "07-organization-record")
