"""Server-side SVG charts: no JavaScript, the same markup in a page and in a WeasyPrint PDF.

    {{ bar_chart }}   where bar_chart = bar_chart_svg(["民政局", "团委"], {"预算": [...], "已支付": [...]})

Amounts are Decimals (never floats); coordinates are computed with Decimal too and written
with two decimals. Labels use the Noto CJK fonts, so Chinese renders in PDFs; values are
printed with thousands separators (``1,234,567.89``). Text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from markupsafe import Markup, escape

FONT = "'Noto Sans CJK SC', 'Noto Serif CJK SC', sans-serif"
#: Okabe–Ito colours: distinguishable with colour-blindness and in grey print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
#: Above this many bars the value labels are left out (each bar keeps a tooltip).
MAX_BAR_LABELS = 24
ZERO = Decimal(0)


def format_amount(value: Decimal) -> str:
    """1234567.8 → ``1,234,567.80`` (two decimals, thousands separators)."""
    return f"{Decimal(value):,.2f}"


WAN = Decimal(10000)


def _scale(unit: str) -> Decimal:
    """What one unit of the chart's figures is worth in yuan: 1 (yuan) or 10,000 (万元)."""
    if unit not in ("yuan", "wan"):
        raise ValueError(f"unknown unit {unit!r}")
    return WAN if unit == "wan" else Decimal(1)


def text_width(text: str, size: Decimal | int = 11) -> Decimal:
    """An estimate of ``text``'s width in pixels at font ``size``: a CJK (or full-width)
    character is one em, digits and Latin letters about 0.6 em (Noto Sans CJK's metrics,
    rounded up so that labels judged to fit do fit)."""
    size = Decimal(size)
    return sum((size if ord(ch) >= 0x2E80 else size * Decimal("0.6") for ch in str(text)), Decimal(0))


def _n(value: Decimal) -> str:
    """A coordinate for SVG."""
    return f"{Decimal(value):.2f}"


def _short(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"


def _fit(text: str, width: Decimal, size: int = 11) -> str:
    """``text`` cut (with an ellipsis) to fit ``width`` pixels at font ``size``."""
    text = str(text)
    if text_width(text, size) <= width:
        return text
    while len(text) > 1 and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _nice_step(span: Decimal, ticks: int = 4) -> Decimal:
    """A round tick step (1, 2 or 5 × 10^k) so that about ``ticks`` steps cover ``span``."""
    if span <= 0:
        return Decimal(1)
    raw = span / ticks
    exponent = raw.adjusted()
    base = Decimal(10) ** exponent
    for factor in (1, 2, 5, 10):
        if raw <= base * factor:
            return base * factor
    return base * 10  # pragma: no cover - the loop always returns


def _svg(width: int, height: int, title: str | None, body: list[str]) -> Markup:
    """The chart's root: drawn for ``width`` × ``height``, shrunk to its container when
    that is narrower (never enlarged); a PDF prints it at the drawn size or its column's."""
    label = escape(title) if title else ""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" '
             f'style="width:100%;max-width:{width}px;height:auto" '
             f'role="img" aria-label="{label}" font-family="{FONT}" font-size="11">']
    if title:
        parts.append(f"<title>{label}</title>")
        parts.append(f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" font-size="14" font-weight="bold">'
                     f"{label}</text>")
    parts.extend(body)
    parts.append("</svg>")
    return Markup("".join(parts))


#: Drawn widths of a page's chart: the wide one fills a 1366 px page's content column at
#: its drawn size, the narrow one a phone's (390 px) without scaling the labels down.
WIDE, NARROW = 880, 350


def responsive(draw: Callable[[int, int], Markup], height: int) -> Markup:
    """A page's chart drawn twice, ``draw(width, height)`` at :data:`WIDE` and at
    :data:`NARROW` px: the page shows the one that fits (base.html's ``.chart-wide`` /
    ``.chart-narrow`` rules, switching at 576 px), so labels keep their size on a phone
    instead of shrinking with the picture. PDFs draw one chart at the page's width."""
    return Markup('<div class="chart-wide">{}</div><div class="chart-narrow">{}</div>').format(
        draw(WIDE, height), draw(NARROW, height + 40))


def _empty(width: int, height: int, title: str | None, message: str) -> Markup:
    return _svg(width, height, title, [
        f'<text class="chart-empty" x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" '
        f'fill="#666">{escape(message)}</text>'])


LEGEND_ROW = 16


def _legend_rows(names: Sequence[str], x: int, width: int) -> list[list[tuple[int, str, Decimal]]]:
    """The legend's entries (series index, label, x) in rows that fit ``width``."""
    rows: list[list[tuple[int, str, Decimal]]] = [[]]
    cursor = Decimal(x)
    for i, name in enumerate(names):
        label = _short(name, 16)
        item = 14 + text_width(label) + 14
        if rows[-1] and cursor + item > width:
            rows.append([])
            cursor = Decimal(x)
        rows[-1].append((i, label, cursor))
        cursor += item
    return rows


def _legend(rows: list[list[tuple[int, str, Decimal]]], y: int) -> list[str]:
    out = []
    for r, row in enumerate(rows):
        ry = y + LEGEND_ROW * r
        for i, label, cursor in row:
            out.append(f'<rect class="legend-key" x="{_n(cursor)}" y="{ry - 9}" width="10" height="10" '
                       f'fill="{PALETTE[i % len(PALETTE)]}"/>'
                       f'<text class="legend" x="{_n(cursor + 14)}" y="{ry}">{escape(label)}</text>')
    return out


def bar_chart_svg(categories: Sequence[str], series: Mapping[str, Sequence[Decimal]], title: str | None = None,
                  width: int = 640, height: int = 320, empty_message: str = "—", *, unit: str = "yuan",
                  unit_label: str | None = None) -> Markup:
    """Grouped vertical bars: one group per category, one bar per series.

    ``series`` maps a series name to one Decimal per category, in yuan (None counts as 0).
    The axis and the value labels show the figures in ``unit`` ("yuan", or "wan": 万元,
    two decimals), and ``unit_label`` (e.g. "单位：万元") is written above the axis; each
    bar's tooltip and ``data-value`` keep the exact yuan. Negative values go below the
    zero line. Nothing overlaps: value labels are drawn only when every one fits its bar
    (the tooltips remain), category labels are cut to their group's width, and the legend
    wraps. With no categories or series, or only zeros, an empty chart with
    ``empty_message`` is returned (still valid SVG).
    """
    scale = _scale(unit)
    categories = [str(c) for c in categories]
    names = list(series)
    for name in names:
        if len(series[name]) != len(categories):
            raise ValueError(f"series {name!r} has {len(series[name])} values for {len(categories)} categories")
    values = {name: [Decimal(v) if v is not None else ZERO for v in series[name]] for name in names}
    flat = [v / scale for vs in values.values() for v in vs]
    if not categories or not names or all(v == 0 for v in flat):
        return _empty(width, height, title, empty_message)

    top = (34 if title else 14) + (18 if unit_label else 0)
    right = 12
    legend_rows = _legend_rows(names, 8, width - right) if len(names) > 1 else []
    bottom = 30 + LEGEND_ROW * len(legend_rows)
    hi, lo = max([ZERO, *flat]), min([ZERO, *flat])
    step = _nice_step(hi - lo)
    hi = (hi / step).to_integral_value(rounding=ROUND_CEILING) * step
    lo = (lo / step).to_integral_value(rounding=ROUND_FLOOR) * step
    span = hi - lo
    ticks = []
    tick = lo
    while tick <= hi:
        ticks.append(tick)
        tick += step
    tick_labels = [format_amount(t).removesuffix(".00") for t in ticks]
    left = int(max(text_width(t) for t in tick_labels)) + 14
    plot_w, plot_h = Decimal(width - left - right), Decimal(height - top - bottom)

    def y_of(v: Decimal) -> Decimal:
        return Decimal(top) + (hi - v) / span * plot_h

    body = []
    if unit_label:  # above the axis's top tick label
        body.append(f'<text class="unit" x="4" y="{top - 12}" fill="#444" font-size="10">{escape(unit_label)}</text>')
    for tick, text in zip(ticks, tick_labels, strict=True):
        y = y_of(tick)
        body.append(f'<line class="grid" x1="{left}" x2="{_n(left + plot_w)}" y1="{_n(y)}" y2="{_n(y)}" '
                    f'stroke="#ddd" stroke-width="1"/>'
                    f'<text class="tick" x="{left - 6}" y="{_n(y + 4)}" text-anchor="end" fill="#444">'
                    f"{text}</text>")
    zero_y = y_of(ZERO)

    group_w = plot_w / len(categories)
    bar_w = group_w * Decimal("0.8") / len(names)
    value_text = {name: [format_amount(v / scale) for v in values[name]] for name in names}
    show_values = (len(categories) * len(names) <= MAX_BAR_LABELS
                   and all(text_width(t, 9) <= bar_w - 1 for ts in value_text.values() for t in ts))
    for ci, category in enumerate(categories):
        gx = Decimal(left) + group_w * ci + group_w * Decimal("0.1")
        for si, name in enumerate(names):
            v = values[name][ci]
            shown = v / scale
            x = gx + bar_w * si
            y_top = min(y_of(shown), zero_y)
            h = abs(zero_y - y_of(shown))
            text = f"{category} · {name}: {format_amount(v)}"
            body.append(f'<rect class="bar" data-series="{escape(name)}" data-category="{escape(category)}" '
                        f'data-value="{v}" x="{_n(x)}" y="{_n(y_top)}" width="{_n(bar_w)}" height="{_n(h)}" '
                        f'fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(text)}</title></rect>')
            if show_values and v != 0:
                ly = y_top - 3 if v > 0 else y_top + h + 10
                body.append(f'<text class="value" x="{_n(x + bar_w / 2)}" y="{_n(ly)}" text-anchor="middle" '
                            f'font-size="9" fill="#222">{value_text[name][ci]}</text>')
        body.append(f'<text class="category" x="{_n(Decimal(left) + group_w * ci + group_w / 2)}" '
                    f'y="{_n(Decimal(top) + plot_h + 15)}" text-anchor="middle">'
                    f"{escape(_fit(category, group_w - 4))}<title>{escape(category)}</title></text>")
    body.append(f'<line class="axis" x1="{left}" x2="{_n(left + plot_w)}" y1="{_n(zero_y)}" y2="{_n(zero_y)}" '
                f'stroke="#333" stroke-width="1"/>')
    if legend_rows:
        body.extend(_legend(legend_rows, int(Decimal(top) + plot_h + 34)))
    return _svg(width, height, title, body)


def pie_chart_svg(slices: Mapping[str, Decimal] | Iterable[tuple[str, Decimal]], title: str | None = None,
                  width: int = 420, height: int = 260, empty_message: str = "—") -> Markup:
    """A pie with a legend giving each slice's amount and share (``民政局 1,200.00 (40.0%)``).

    Zero slices are left out of the pie (kept in the legend); negative values are refused.
    With nothing above zero an empty chart with ``empty_message`` is returned.
    """
    items = list(slices.items()) if isinstance(slices, Mapping) else list(slices)
    items = [(str(label), Decimal(v) if v is not None else ZERO) for label, v in items]
    if any(v < 0 for _label, v in items):
        raise ValueError("a pie chart cannot show negative values")
    total = sum((v for _label, v in items), ZERO)
    if not items or total == 0:
        return _empty(width, height, title, empty_message)

    top = 30 if title else 8
    radius = Decimal(min(height - top - 10, width // 2) // 2)
    cx, cy = Decimal(10) + radius, Decimal(top) + radius
    body, start = [], ZERO
    for i, (label, v) in enumerate(items):
        colour = PALETTE[i % len(PALETTE)]
        share = v / total
        text = f"{label}: {format_amount(v)} ({share * 100:.1f}%)"
        if v == 0:
            continue
        if share == 1:
            body.append(f'<circle class="slice" data-value="{v}" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(radius)}" '
                        f'fill="{colour}"><title>{escape(text)}</title></circle>')
            continue
        end = start + share
        # Trigonometry for the arc's end points only (pixels); the amounts stay Decimal.
        a0, a1 = (2 * math.pi * float(t) - math.pi / 2 for t in (start, end))
        x0, y0 = cx + radius * Decimal(math.cos(a0)), cy + radius * Decimal(math.sin(a0))
        x1, y1 = cx + radius * Decimal(math.cos(a1)), cy + radius * Decimal(math.sin(a1))
        large = 1 if share > Decimal("0.5") else 0
        body.append(f'<path class="slice" data-value="{v}" d="M{_n(cx)},{_n(cy)} L{_n(x0)},{_n(y0)} '
                    f'A{_n(radius)},{_n(radius)} 0 {large} 1 {_n(x1)},{_n(y1)} Z" fill="{colour}" '
                    f'stroke="#fff" stroke-width="1"><title>{escape(text)}</title></path>')
        start = end
    lx = cx + radius + 20
    for i, (label, v) in enumerate(items):
        y = Decimal(top) + 14 + 18 * i
        share = v / total * 100
        body.append(f'<rect class="legend-key" x="{_n(lx)}" y="{_n(y - 9)}" width="10" height="10" '
                    f'fill="{PALETTE[i % len(PALETTE)]}"/>'
                    f'<text class="legend" x="{_n(lx + 14)}" y="{_n(y)}">{escape(_short(label, 14))} '
                    f"{format_amount(v)} ({share:.1f}%)</text>")
    return _svg(width, height, title, body)
