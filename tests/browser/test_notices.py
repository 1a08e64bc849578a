"""Work that moves is told in the real browser: an officer submits a project, the
finance officer finds it among their notices (in English), opens it and returns it with
a reason; the officer finds the return among theirs (in Chinese), with the reason."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from procure.roles import Role

from ..factories import Factory

pytestmark = pytest.mark.browser


def _sign_in(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(Factory.PASSWORD)
    page.locator("#submit").click()
    page.wait_for_url(f"{base}/dashboard")


def test_submit_and_return_are_told_to_the_next_person(page: Page, live_server, make, db, artifacts):
    page.set_default_timeout(8000)
    page.on("dialog", lambda dialog: dialog.accept())  # "return the project?" — yes (reason given)
    officer = make.user(Role.OFFICER, locale="zh_CN")
    fin = make.user(Role.FINANCE, locale="en")
    project = make.project(officer, title="社区居家养老服务")
    make.commit()

    _sign_in(page, live_server, officer.username)
    page.goto(f"{live_server}/projects/{project.id}")
    page.locator("#submit-project").click()
    expect(page.locator("#project-state")).to_have_text("待预算审核")

    _sign_in(page, live_server, fin.username)
    expect(page.get_by_text("Unread notices")).to_be_visible()
    page.get_by_role("link", name="Notices", exact=True).click()
    notice = page.locator("#notices tbody tr").first
    expect(notice).to_contain_text(f"{officer.name} (")
    expect(notice).to_contain_text("submitted “社区居家养老服务” for the budget check")
    page.screenshot(path=str(artifacts / "notice-submitted.png"), full_page=True)
    notice.get_by_role("button", name="Open").click()
    page.wait_for_url(f"{live_server}/projects/{project.id}")
    page.locator("#ret-reason").fill("请补充绩效目标的测算依据")
    page.locator("#ret-submit").click()
    expect(page.locator("#project-state")).to_have_text("Draft")

    _sign_in(page, live_server, officer.username)
    page.get_by_role("link", name="站内通知", exact=True).click()
    notice = page.locator("#notices tbody tr").first
    expect(notice).to_contain_text(f"{fin.name} 退回了「社区居家养老服务」：请补充绩效目标的测算依据")
    page.screenshot(path=str(artifacts / "notice-returned.png"), full_page=True)
    notice.get_by_role("button", name="查看").click()
    page.wait_for_url(f"{live_server}/projects/{project.id}")
    expect(page.locator("#state-reason")).to_have_text("请补充绩效目标的测算依据")
