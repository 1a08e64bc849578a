"""procure.charts: valid SVG, proportional bars and slices, empty data, CJK in a PDF."""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from pypdf import PdfReader

from procure.charts import bar_chart_svg, format_amount, pie_chart_svg
from procure.pdf import render_pdf

NS = {"svg": "http://www.w3.org/2000/svg"}
D = Decimal


def _parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def _bars(root):
    return root.findall(".//svg:rect[@class='bar']", NS)


def test_bars_are_proportional_to_values():
    svg = bar_chart_svg(["民政局", "团区委", "残联"], {"预算": [D("1000000"), D("250000.50"), D("0")],
                                                   "已支付": [D("500000"), D("125000.25"), D("0")]},
                        title="2026 年预算执行")
    root = _parse(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    bars = _bars(root)
    assert len(bars) == 6
    by = {(b.get("data-series"), b.get("data-category")): D(b.get("height")) for b in bars}
    budget, paid = by[("预算", "民政局")], by[("已支付", "民政局")]
    assert budget > 0 and abs(paid * 2 - budget) <= D("0.02")
    assert abs(by[("预算", "团区委")] / budget - D("0.2500005")) < D("0.0001")
    assert by[("预算", "残联")] == 0
    # All bars stand on the same baseline.
    bottoms = {D(b.get("y")) + D(b.get("height")) for b in bars}
    assert max(bottoms) - min(bottoms) <= D("0.02")
    text = "".join(root.itertext())
    assert "1,000,000.00" in text and "250,000.50" in text and "民政局" in text and "2026 年预算执行" in text
    assert "'Noto Sans CJK SC'" in root.get("font-family")


def test_ticks_are_round_numbers_with_separators():
    root = _parse(bar_chart_svg(["a"], {"x": [D("1234567")]}))
    ticks = [t.text for t in root.findall(".//svg:text[@class='tick']", NS)]
    assert ticks[0] == "0" and "1,500,000" in ticks


def test_negative_values_go_below_zero():
    root = _parse(bar_chart_svg(["收入", "调减"], {"金额": [D("100"), D("-50")]}))
    pos, neg = _bars(root)
    axis = D(root.find(".//svg:line[@class='axis']", NS).get("y1"))
    assert D(pos.get("y")) + D(pos.get("height")) == axis
    assert D(neg.get("y")) == axis and abs(D(neg.get("height")) * 2 - D(pos.get("height"))) <= D("0.02")


@pytest.mark.parametrize("categories, series", [
    ([], {}), (["a", "b"], {}), ([], {"x": []}), (["a", "b"], {"x": [D(0), D(0)]}), (["a"], {"x": [None]}),
])
def test_empty_or_zero_data_gives_a_valid_empty_chart(categories, series):
    root = _parse(bar_chart_svg(categories, series, title="空", empty_message="暂无数据"))
    assert _bars(root) == []
    assert root.find(".//svg:text[@class='chart-empty']", NS).text == "暂无数据"


def test_mismatched_series_is_refused():
    with pytest.raises(ValueError):
        bar_chart_svg(["a", "b"], {"x": [D(1)]})


def test_labels_are_escaped():
    root = _parse(bar_chart_svg(["<script>&"], {"a\"b": [D(1)]}, title="<b>"))
    assert root.find(".//svg:rect[@class='bar']", NS).get("data-series") == 'a"b'
    assert "<script>&" in "".join(root.itertext())


def test_pie_slices_follow_shares():
    svg = pie_chart_svg({"一般公共预算": D("750"), "福彩公益金": D("250"), "配套资金": D("0")}, title="资金来源")
    root = _parse(svg)
    slices = root.findall(".//*[@class='slice']", NS)
    assert [s.get("data-value") for s in slices] == ["750", "250"]
    big, small = (s.get("d") for s in slices)
    # The 75 % slice uses the large-arc flag, the 25 % one does not.
    assert " 0 1 1 " in big and " 0 0 1 " in small
    legend = [t.text for t in root.findall(".//svg:text[@class='legend']", NS)]
    assert legend == ["一般公共预算 750.00 (75.0%)", "福彩公益金 250.00 (25.0%)", "配套资金 0.00 (0.0%)"]
    # Clockwise from 12 o'clock: the 25 % slice runs from 9 o'clock back to 12 o'clock.
    nums = [float(n) for n in small.replace("M", " ").replace("L", " ").replace("A", " ").replace("Z", " ")
            .replace(",", " ").split()]
    cx, cy, x0, y0, r, _r, _rot, _large, _sweep, x1, y1 = nums
    assert math.isclose(x0, cx - r, abs_tol=0.05) and math.isclose(y0, cy, abs_tol=0.05)
    assert math.isclose(x1, cx, abs_tol=0.05) and math.isclose(y1, cy - r, abs_tol=0.05)


def test_pie_single_slice_is_a_full_circle_and_empty_is_handled():
    root = _parse(pie_chart_svg([("唯一来源", D("10"))]))
    assert root.find(".//svg:circle[@class='slice']", NS) is not None
    assert _parse(pie_chart_svg({})).find(".//svg:text[@class='chart-empty']", NS) is not None
    assert _parse(pie_chart_svg({"a": D(0)})).find(".//svg:text[@class='chart-empty']", NS) is not None
    with pytest.raises(ValueError):
        pie_chart_svg({"a": D("-1")})


def test_format_amount():
    assert format_amount(D("1234567.8")) == "1,234,567.80" and format_amount(D("-5")) == "-5.00"


def test_same_markup_in_a_page_and_in_a_pdf(app):
    """The chart renders in WeasyPrint with its Chinese labels (as text, not boxes)."""
    chart = bar_chart_svg(["民政局", "团区委"], {"预算": [D("800"), D("200")]}, title="预算执行图")
    pie = pie_chart_svg({"福彩公益金": D("3"), "配套资金": D("1")})
    with app.test_request_context():
        pdf = render_pdf("pdf/example.html", locale="zh_CN", title="图表", subtitle="", rows=[], chart=chart + pie)
        page = app.jinja_env.from_string("<div>{{ chart }}</div>").render(chart=chart)
    assert str(chart) in page  # Markup: not escaped in a page
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for word in ("预算执行图", "民政局", "团区委", "800.00", "福彩公益金", "75.0%"):
        assert word in text




def test_wan_axis_and_labels_keep_exact_yuan_in_the_bars():
    svg = bar_chart_svg(["一般公共预算"], {"预算": [D("5250000.00")], "已支付": [D("442000.55")]}, unit="wan",
                        unit_label="单位：万元")
    root = _parse(svg)
    assert root.find(".//svg:text[@class='unit']", NS).text == "单位：万元"
    ticks = [t.text for t in root.findall(".//svg:text[@class='tick']", NS)]
    assert ticks[-1] == "600"  # 万元, not 6,000,000
    assert [t.text for t in root.findall(".//svg:text[@class='value']", NS)] == ["525.00", "44.20"]
    assert [b.get("data-value") for b in _bars(root)] == ["5250000.00", "442000.55"]  # exact yuan
    assert "442,000.55" in "".join(root.find(".//svg:rect[@class='bar'][2]/svg:title", NS).itertext())
    with pytest.raises(ValueError):
        bar_chart_svg(["a"], {"x": [D(1)]}, unit="lakh")


def _boxes(root, cls):
    """(left, right) of each text of ``cls`` by the same estimate the chart uses."""
    from procure.charts import text_width

    out = []
    for t in root.findall(f".//svg:text[@class='{cls}']", NS):
        w = text_width("".join(t.itertext()) if cls != "category" else t.text, 9 if cls == "value" else 11)
        x = D(t.get("x"))
        out.append((x - w / 2, x + w / 2) if t.get("text-anchor") == "middle" else (x, x + w))
    return out


def test_crowded_charts_leave_out_what_would_overlap():
    cats = ["重庆市民政局慈善事业促进和社会工作处", "重庆市民政局社会组织管理局", "福利彩票公益金", "中央财政专项"]
    series = {n: [D("12345678.90")] * 4 for n in ("预算指标", "已分配", "已签约", "已支付资金及其他很长的名字")}
    root = _parse(bar_chart_svg(cats, series, width=350, height=300, unit="yuan"))
    assert root.findall(".//svg:text[@class='value']", NS) == []  # 12,345,678.90 is wider than a bar
    cat = _boxes(root, "category")
    assert all(a[1] <= b[0] for a, b in zip(cat, cat[1:], strict=False))  # cut to their groups
    assert all(t.text.endswith("…") for t in root.findall(".//svg:text[@class='category']", NS)[:2])
    legend = root.findall(".//svg:text[@class='legend']", NS)
    assert len({t.get("y") for t in legend}) >= 2  # wrapped onto a second row at 350 px
    assert all(D(t.get("x")) < 350 for t in legend)
    wide = _parse(bar_chart_svg(cats[:2], {"预算": [D("5250000"), D("2400000")]}, width=880, unit="wan"))
    assert len(wide.findall(".//svg:text[@class='value']", NS)) == 2  # room enough: the figures are shown
