"""A user's journey through the real browser: Chinese sign-in (wrong password first),
switch to English, change the password (mismatch first), sign out, sign in again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from procure.auth.models import User
from procure.roles import Role

from ..factories import Factory

pytestmark = pytest.mark.browser

NEW_PASSWORD = "fresh7meadow42"


def _sign_in(page: Page, username: str, password: str) -> None:
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("#submit").click()


def test_sign_in_switch_language_change_password(page: Page, live_server, make, db, artifacts):
    page.set_default_timeout(5000)
    user = make.user(Role.EVALUATOR, locale="zh_CN")
    make.commit()
    user_id, username, name = user.id, user.username, user.name

    # The sign-in page is Chinese by default.
    page.goto(f"{live_server}/login")
    expect(page).to_have_title(re.compile("登录"))
    expect(page.locator("h1")).to_have_text("登录 Procure")
    expect(page.get_by_label("用户名")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.screenshot(path=str(artifacts / "01-login-zh.png"), full_page=True)

    # Wrong password: a Chinese error, the user name kept, still on the sign-in page.
    _sign_in(page, username, "wrong-password1")
    expect(page.locator(".invalid-feedback")).to_have_text("用户名或密码错误。")
    expect(page.locator("#username")).to_have_value(username)
    expect(page.locator("#password")).to_have_value("")
    assert page.url.endswith("/login")

    # The right password: the Chinese dashboard.
    _sign_in(page, username, Factory.PASSWORD)
    page.wait_for_url(f"{live_server}/dashboard")
    expect(page.locator("h1")).to_have_text(f"{name}，您好")
    expect(page.get_by_role("heading", name="待办事项")).to_be_visible()
    expect(page.locator("#lang-menu")).to_have_text("简体中文")

    # Switch to English through the navbar's language menu.
    page.locator("#lang-menu").click()
    page.locator('button[data-lang="en"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Waiting for you")).to_be_visible()
    expect(page.locator("h1")).to_have_text(f"Good day, {name}")
    expect(page.get_by_role("link", name="Dashboard", exact=True)).to_be_visible()
    expect(page.locator("#lang-menu")).to_have_text("English")
    expect(page.locator("#user-menu")).to_have_attribute("title", "Evaluator")
    # The menu fits on one line without widening the page (issue 12: 1366 px).
    page.set_viewport_size({"width": 1366, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate("document.querySelector('#nav').getBoundingClientRect().height < 60")
    assert "待办事项" not in page.content()
    page.screenshot(path=str(artifacts / "02-dashboard-en.png"), full_page=True)
    db.session.rollback()
    assert db.session.get(User, user_id).locale == "en"  # the choice is kept on the account

    # Change password from the user menu: a mismatching confirmation first.
    page.locator("#user-menu").click()
    page.get_by_role("link", name="Change password").click()
    page.wait_for_url(f"{live_server}/account/password")
    expect(page.locator("h1")).to_have_text("Change password")
    page.get_by_label("Current password", exact=True).fill(Factory.PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD + "x")
    page.locator("#submit").click()
    expect(page.locator("#confirm + .invalid-feedback")).to_have_text("The two passwords differ.")
    expect(page.locator("#confirm")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#current_password")).to_be_visible()
    assert page.url.endswith("/account/password")
    page.screenshot(path=str(artifacts / "03-change-password-error.png"), full_page=True)
    db.session.rollback()
    assert db.session.get(User, user_id).check_password(Factory.PASSWORD)  # nothing changed

    # A valid change.
    page.get_by_label("Current password", exact=True).fill(Factory.PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.locator("#submit").click()
    page.wait_for_url(f"{live_server}/dashboard")
    expect(page.locator(".alert-success")).to_contain_text(
        "Your password has been changed. Other sessions were signed out.")
    db.session.rollback()
    stored = db.session.get(User, user_id)
    assert stored.check_password(NEW_PASSWORD)
    assert not stored.check_password(Factory.PASSWORD)

    # Sign out through the user menu.
    page.locator("#user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/login")
    expect(page.locator("#user-menu")).to_have_count(0)
    # The language comes back with the next sign-in; until then the page may be in either.
    expect(page.locator(".alert-info")).to_have_text(re.compile(r"You have signed out\.|您已退出登录。"))

    # The old password no longer works; the new one does, and the account's language
    # (English, chosen above) comes back with the sign-in.
    _sign_in(page, username, Factory.PASSWORD)
    expect(page.locator(".invalid-feedback")).to_be_visible()
    assert page.url.endswith("/login")
    _sign_in(page, username, NEW_PASSWORD)
    page.wait_for_url(f"{live_server}/dashboard")
    expect(page.locator("h1")).to_have_text(f"Good day, {name}")
    expect(page.get_by_role("heading", name="Waiting for you")).to_be_visible()
    expect(page.locator("#user-menu")).to_contain_text(name)
