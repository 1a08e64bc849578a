"""Pages a bureau recognizes, looked at in Chromium on the demo: summaries in 万元 under
their unit line, charts whose labels never overlap, sized to the page at 1366 px and at
390 px (the page body never scrolls sideways). Screenshots in test-artifacts/bureau-*.png."""

from __future__ import annotations

import pytest

from procure.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

PAGES = {"budgets": "/budgets/", "execution": "/reports/budget-execution", "summary": "/reports/program-summary"}

#: Pairs of text boxes in a chart that intersect (their rectangles, shrunk by half a pixel).
OVERLAPS = """svg => {
  const boxes = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim())
    .map(t => [t.textContent, t.getBoundingClientRect()]);
  const out = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [ta, a] = boxes[i], [tb, b] = boxes[j];
    if (a.left + .5 < b.right && b.left + .5 < a.right && a.top + .5 < b.bottom && b.top + .5 < a.bottom)
      out.push(ta + ' × ' + tb);
  }
  return out;
}"""


@pytest.mark.parametrize("width", [1366, 390])
def test_summaries_and_charts_fit_and_read(browser, demo_loaded, live_server, artifacts, width):
    ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(10000)
    page.goto(f"{live_server}/login")
    page.fill("#username", "finance")
    page.fill("#password", DEMO_PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(f"{live_server}/dashboard")
    for name, path in PAGES.items():
        resp = page.goto(f"{live_server}{path}")
        assert resp is not None and resp.status == 200, path
        page.screenshot(path=str(artifacts / f"bureau-{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (path, width)
        charts = page.locator(".chart svg >> visible=true")  # the wide or the narrow drawing
        assert charts.count() >= 1, path
        for i in range(charts.count()):
            svg = charts.nth(i)
            assert svg.evaluate(OVERLAPS) == [], (path, width)
            shown = svg.bounding_box()
            assert shown["width"] >= min(width - 90, 880) * 0.9, (path, shown)  # sized to the page
            assert shown["x"] >= 0 and shown["x"] + shown["width"] <= width, (path, shown)
            assert svg.locator("text.unit").text_content() == "单位：万元", path
        assert page.locator(".unit-caption[data-unit=wan]").count() >= 1, path
    ctx.close()
