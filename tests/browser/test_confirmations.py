"""Irreversible actions ask for confirmation in the browser (issue 12): clicking the
button shows the dialog (the form's data-confirm, macros/forms.html); dismissing it
sends nothing (the object unchanged); accepting sends the form and the action is done.
The reasons the services require: tests/test_irreversible.py."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page

from procure.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def _sign_in(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("#submit").click()


def _scalar(db, sql: str):
    db.session.rollback()
    return db.session.execute(sa.text(sql)).scalar()


#: (user, SQL of the object's id, its page, the form's action ending, SQL of its state (:id), fields to fill)
CASES = {
    "cancel-tender": ("officer", "SELECT id FROM tenders WHERE state = 'published' AND department_id = 1",
                      "/tenders/{id}", "/cancel", "SELECT state FROM tenders WHERE id = {id}",
                      {"reason": "资金安排调整，本次采购取消。"}),
    "return-project": ("finance", "SELECT id FROM projects WHERE state = 'submitted'",
                       "/projects/{id}", "/return", "SELECT state FROM projects WHERE id = {id}",
                       {"reason": "预算测算依据不足，请补充。"}),
    "terminate-contract": ("officer", "SELECT id FROM contracts WHERE state = 'active' AND department_id = 1",
                           "/contracts/{id}", "/terminate", "SELECT state FROM contracts WHERE id = {id}",
                           {"reason": "服务机构严重违约。", "settlement": "0"}),
    "disable-user": ("admin", "SELECT id FROM users WHERE username = 'yangguang'",
                     "/admin/users/{id}", "/status", "SELECT status FROM users WHERE id = {id}", {}),
    "withdraw-bid": ("tongxin", "SELECT b.tender_id FROM bids b JOIN users u ON u.organization_id = b.organization_id "
                                "WHERE u.username = 'tongxin' AND b.state = 'submitted'",
                     "/tenders/calls/{id}", "/withdraw",
                     "SELECT b.state FROM bids b JOIN users u ON u.organization_id = b.organization_id "
                     "WHERE u.username = 'tongxin' AND b.tender_id = {id}", {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_irreversible_action_asks_first(page: Page, live_server, demo_loaded, db, case):
    page.set_default_timeout(10000)
    username, find, path, action, state_sql, fields = CASES[case]
    oid = _scalar(db, find)
    assert oid is not None, f"the demo has nothing to {case}"
    before = _scalar(db, state_sql.format(id=oid))
    _sign_in(page, live_server, username)
    page.goto(live_server + path.format(id=oid))
    form = page.locator(f'form[action$="{action}"]')
    assert form.count() == 1, f"{case}: no form ending in {action} on {path}"
    question = form.get_attribute("data-confirm")
    assert question, f"{case}: the form does not ask for confirmation"
    for name, value in fields.items():
        form.locator(f'[name$="{name}"]').fill(value)
    button = form.locator('button, input[type="submit"]').last

    seen: list[str] = []

    def dismiss(dialog):
        seen.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    button.click()
    page.wait_for_timeout(300)  # a submission, had there been one, would have started by now
    assert seen == [question]
    assert page.url.endswith(path.format(id=oid))
    assert _scalar(db, state_sql.format(id=oid)) == before, f"{case}: dismissing the dialog still sent the form"

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        button.click()
    after = _scalar(db, state_sql.format(id=oid))
    assert after != before, f"{case}: accepting did not act ({before} → {after}); {page.url}"
