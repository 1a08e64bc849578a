"""Every role's pages of the demo in the real browser, in Chinese and in English (issue 12):
at 1366 px the navigation is one row and no label wraps; at 390 px (a phone) no page
makes the body scroll sideways (wide tables scroll inside their own wrapper).

One browser; per role one context (signed in once), in which the language is switched;
one page per endpoint the role may read (found by the crawler of test_readable_pages).
Screenshots of each role's home in both languages at both widths are written to
``ARTIFACTS`` (its path is printed). With ``PROCURE_SHOTS=all`` a full-page screenshot of
every page visited is written there too (``role-lang-width-<path slug>.png``; the pages are
then also visited at 1366 px); ``PROCURE_SHOTS_LANGS`` and ``PROCURE_SHOTS_WIDTHS``
(comma-separated, e.g. ``zh_CN`` and ``1366``) narrow them. Off by default: CI takes only
the homes."""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

import pytest

from procure import create_app
from procure.demo import DEMO_PASSWORD
from procure.extensions import db as _db
from procure.extensions import limiter

from ..conftest import IsolatedClient, app_config, login, restore_demo, truncate_all
from ..test_readable_pages import _demo_facts, representative_pages
from .conftest import serving

pytestmark = pytest.mark.browser

ROLES = ["admin", "officer", "finance", "expert", "tongxin", "kangle", "anon"]  # finance2: finance's pages
LANGS = ["zh_CN", "en"]
ARTIFACTS = Path(os.environ.get("PROCURE_ARTIFACTS") or Path(tempfile.gettempdir()) / "procure-role-pages")
WIDE, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}
#: Opt-in screenshots of every page (issue 12): which languages and widths.
SHOTS = os.environ.get("PROCURE_SHOTS", "") == "all"
SHOT_LANGS = set(filter(None, os.environ.get("PROCURE_SHOTS_LANGS", "").split(","))) or set(LANGS)
SHOT_WIDTHS = {int(w) for w in os.environ.get("PROCURE_SHOTS_WIDTHS", "").split(",") if w.strip()} or {
    WIDE["width"], PHONE["width"]}
#: What the pages need of the network: the documents and their style sheet. Images, fonts
#: and the scripts of the menus (Bootstrap's) are left out: the layout does not depend on
#: them; the language is switched by submitting the menu's form.
BLOCKED = {"image", "font", "media"}

#: The body is wider than the window (what makes a phone scroll sideways), and the
#: elements that stick out (the innermost ones, for the message).
OVERFLOW_JS = """() => {
  const root = document.documentElement, width = root.clientWidth;
  if (root.scrollWidth <= width) return null;
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 1 && !el.closest('.table-responsive') && r.width > 0) {
      const inner = [...el.children].some(c => c.getBoundingClientRect().right > width + 1);
      if (!inner) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
        ' ' + Math.round(r.right) + 'px');
    }
    if (out.length >= 4) break;
  }
  return {scroll: root.scrollWidth, width: width, culprits: out};
}"""

#: The navigation at full width: one row, each label on one line.
NAV_JS = """() => {
  const links = [...document.querySelectorAll('#nav .nav-link')].filter(a => a.offsetParent !== null);
  const tops = new Set(links.map(a => Math.round(a.getBoundingClientRect().top)));
  const wrapped = links.filter(a => a.getClientRects().length !== 1 ||
      a.getBoundingClientRect().height > 1.5 * parseFloat(getComputedStyle(a).lineHeight) +
      parseFloat(getComputedStyle(a).paddingTop) + parseFloat(getComputedStyle(a).paddingBottom))
    .map(a => a.textContent.trim());
  return {links: links.length, rows: tops.size, wrapped: wrapped,
          height: (document.querySelector("nav.navbar") || document.body).getBoundingClientRect().height};
}"""


@pytest.fixture(scope="module")
def site(app, demo_snapshot):
    """The demo in the database, each role's pages (one per endpoint), and a live server."""
    assert demo_snapshot.exit_code == 0, demo_snapshot.output
    kept = app.config["DOCUMENTS_DIR"]
    app.config["DOCUMENTS_DIR"] = demo_snapshot.documents_dir
    with app.app_context():
        _db.session.remove()
        truncate_all(_db.engine)
        restore_demo(_db.engine, demo_snapshot)
        facts = _demo_facts(_db)
    app.test_client_class = IsolatedClient
    started, pages = time.monotonic(), {}
    for role in ROLES:
        client = app.test_client()
        with app.app_context():
            limiter.reset()
        if role != "anon":
            assert login(client, role, DEMO_PASSWORD).status_code == 302
        pages[role] = representative_pages(app, client, facts["ids"])
    live = create_app("testing", **app_config(WTF_CSRF_ENABLED=True, LOGIN_RATE_LIMIT="1000 per minute",
                                              DOCUMENTS_DIR=demo_snapshot.documents_dir))
    print(f"\npages found for {len(ROLES)} roles in {time.monotonic() - started:.1f} s")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"screenshots of the roles' homes: {ARTIFACTS}")
    try:
        with serving(app, live) as url:
            yield {"url": url, "pages": pages}
    finally:
        app.config["DOCUMENTS_DIR"] = kept
        with app.app_context():
            _db.session.remove()
            truncate_all(_db.engine)


def _slug(url: str) -> str:
    """A file-name part for a page's path and query: ``/projects/3/edit`` → ``projects-3-edit``."""
    return re.sub(r"[^A-Za-z0-9]+", "-", url).strip("-") or "root"


def _shoot(page, role: str, lang: str, width: int, url: str) -> None:
    if SHOTS and lang in SHOT_LANGS and width in SHOT_WIDTHS:
        page.screenshot(path=str(ARTIFACTS / f"{role}-{lang}-{width}-{_slug(url)}.png"), full_page=True)


class _Assets:
    """Serve the static files from memory after their first load (routing a context turns
    its HTTP cache off: without this every page would fetch them again); leave out
    images, fonts and Bootstrap's scripts."""

    def __init__(self):
        self.cache: dict[str, tuple[int, dict, bytes]] = {}

    def __call__(self, route):
        request = route.request
        if request.resource_type in BLOCKED or (request.resource_type == "script" and "/static/" in request.url):
            return route.abort()
        if "/static/" not in request.url:
            return route.continue_()
        if request.url not in self.cache:
            resp = route.fetch()
            self.cache[request.url] = (resp.status, resp.headers, resp.body())
        status, headers, body = self.cache[request.url]
        return route.fulfill(status=status, headers=headers, body=body)


ASSETS = _Assets()


def _switch_language(page, base: str, code: str) -> None:
    if page.locator("html").get_attribute("lang") == ("zh-CN" if code == "zh_CN" else "en"):
        return
    with page.expect_navigation():
        page.locator(f'button[data-lang="{code}"]').evaluate("b => b.form.requestSubmit(b)")


@pytest.mark.parametrize("role", ROLES)
def test_role_pages_fit_1366_and_390(browser, site, role):
    started = time.monotonic()
    base, pages = site["url"], site["pages"][role]
    assert pages, f"{role} reads no page"
    home = "/dashboard" if role != "anon" else "/login"
    if role != "anon":
        assert "dashboard.index" in pages
    context = browser.new_context(viewport=WIDE, locale="zh-CN")
    context.route("**/*", ASSETS)
    page = context.new_page()
    page.set_default_timeout(10000)
    problems: list[str] = []
    try:
        if role != "anon":
            page.goto(f"{base}/login")
            page.locator("#username").fill(role)
            page.locator("#password").fill(DEMO_PASSWORD)
            with page.expect_navigation():
                page.locator("#submit").click()
            assert page.url.endswith("/dashboard"), page.url
        for lang in LANGS:
            page.set_viewport_size(WIDE)
            page.goto(base + home)
            _switch_language(page, base, lang)
            page.goto(base + home)
            assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh_CN" else "en")
            nav = page.evaluate(NAV_JS)
            if nav["rows"] > 1 or nav["wrapped"] or nav["height"] > 70:
                problems.append(f"{lang} 1366px {home}: navigation {nav}")
            wide = page.evaluate(OVERFLOW_JS)
            if wide:
                problems.append(f"{lang} 1366px {home}: page wider than the window {wide}")
            page.screenshot(path=str(ARTIFACTS / f"{role}-{lang}-1366.png"), full_page=True)
            page.set_viewport_size(PHONE)
            page.goto(base + home)
            page.screenshot(path=str(ARTIFACTS / f"{role}-{lang}-390.png"), full_page=True)
            if SHOTS and lang in SHOT_LANGS and WIDE["width"] in SHOT_WIDTHS:
                page.set_viewport_size(WIDE)
                for url in pages.values():
                    resp = page.goto(base + url, wait_until="domcontentloaded")
                    if resp is not None and resp.status == 200:
                        _shoot(page, role, lang, WIDE["width"], url)
                page.set_viewport_size(PHONE)
            for endpoint, url in pages.items():
                resp = page.goto(base + url, wait_until="domcontentloaded")
                assert resp is not None and resp.status < 500, f"{url} answered {resp and resp.status}"
                if resp.status != 200:
                    continue
                over = page.evaluate(OVERFLOW_JS)
                if over:
                    problems.append(f"{lang} 390px {url} ({endpoint}): scrolls sideways {over}")
                _shoot(page, role, lang, PHONE["width"], url)
    finally:
        context.close()
    print(f"{role}: {len(pages)} pages × {len(LANGS)} languages in {time.monotonic() - started:.1f} s")
    assert not problems, f"{len(problems)} problems as {role}:\n" + "\n".join(problems)
