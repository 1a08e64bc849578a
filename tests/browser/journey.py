"""What the browser journeys share: a signed-in page per person (its own context, Chinese
locale, confirm dialogs accepted — the irreversible steps ask first), a GET that must
answer 200, and full-page screenshots."""

from __future__ import annotations

from playwright.sync_api import Page

from ..factories import Factory


class Journey:
    #: Milliseconds a locator waits (a journey with PDF rendering in a worker waits longer).
    timeout = 10000

    def __init__(self, browser, base: str, shots):
        self.browser, self.base, self.shots, self.pages = browser, base, shots, []

    def page(self, user=None) -> Page:
        ctx = self.browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        pg = ctx.new_page()
        pg.set_default_timeout(self.timeout)
        pg.on("dialog", lambda dialog: dialog.accept())
        if user is not None:
            pg.goto(f"{self.base}/login")
            pg.fill("#username", user.username)
            pg.fill("#password", Factory.PASSWORD)
            pg.press("#password", "Enter")
            pg.wait_for_url(f"{self.base}/dashboard")
        self.pages.append(pg)
        return pg

    def go(self, pg: Page, path: str) -> Page:
        resp = pg.goto(f"{self.base}{path}")
        assert resp is not None and resp.status == 200, (path, resp and resp.status)
        return pg

    def shot(self, pg: Page, name: str) -> None:
        pg.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)
