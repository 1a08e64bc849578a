"""Server-side SVG charts: no JavaScript, the same markup in a page and in a WeasyPrint PDF.

    {{ bar_chart }}   where bar_chart = bar_chart_svg(["民政局", "团委"], {"预算": [...], "已支付": [...]})

Amounts are Decimals (never floats); coordinates are computed with Decimal too and written
with two decimals. Labels use the Noto CJK fonts, so Chinese renders in PDFs; values are
printed with thousands separators (``1,234,567.89``). Text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
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


def _n(value: Decimal) -> str:
    """A coordinate for SVG."""
    return f"{Decimal(value):.2f}"


def _short(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"


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
    label = escape(title) if title else ""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}" font-family="{FONT}" font-size="11">']
    if title:
        parts.append(f"<title>{label}</title>")
        parts.append(f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" font-size="14" font-weight="bold">'
                     f"{label}</text>")
    parts.extend(body)
    parts.append("</svg>")
    return Markup("".join(parts))


def _empty(width: int, height: int, title: str | None, message: str) -> Markup:
    return _svg(width, height, title, [
        f'<text class="chart-empty" x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" '
        f'fill="#666">{escape(message)}</text>'])


def _legend(names: Sequence[str], x: int, y: int) -> list[str]:
    out, cursor = [], Decimal(x)
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        label = _short(name, 16)
        out.append(f'<rect class="legend-key" x="{_n(cursor)}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{_n(cursor + 14)}" y="{y}">{escape(label)}</text>')
        cursor += 14 + 12 * len(label) + 18  # CJK-wide estimate; legends are short
    return out


def bar_chart_svg(categories: Sequence[str], series: Mapping[str, Sequence[Decimal]], title: str | None = None,
                  width: int = 640, height: int = 320, empty_message: str = "—") -> Markup:
    """Grouped vertical bars: one group per category, one bar per series.

    ``series`` maps a series name to one Decimal per category (None counts as 0).
    Negative values go below the zero line. With no categories or series, or only
    zeros, an empty chart with ``empty_message`` is returned (still valid SVG).
    """
    categories = [str(c) for c in categories]
    names = list(series)
    for name in names:
        if len(series[name]) != len(categories):
            raise ValueError(f"series {name!r} has {len(series[name])} values for {len(categories)} categories")
    values = {name: [Decimal(v) if v is not None else ZERO for v in series[name]] for name in names}
    flat = [v for vs in values.values() for v in vs]
    if not categories or not names or all(v == 0 for v in flat):
        return _empty(width, height, title, empty_message)

    top = 34 if title else 14
    left, right, bottom = 78, 12, 46 if len(names) > 1 else 30
    plot_w, plot_h = Decimal(width - left - right), Decimal(height - top - bottom)
    hi, lo = max([ZERO, *flat]), min([ZERO, *flat])
    step = _nice_step(hi - lo)
    hi = (hi / step).to_integral_value(rounding=ROUND_CEILING) * step
    lo = (lo / step).to_integral_value(rounding=ROUND_FLOOR) * step
    span = hi - lo

    def y_of(v: Decimal) -> Decimal:
        return Decimal(top) + (hi - v) / span * plot_h

    body = []
    tick = lo
    while tick <= hi:
        y = y_of(tick)
        body.append(f'<line class="grid" x1="{left}" x2="{_n(left + plot_w)}" y1="{_n(y)}" y2="{_n(y)}" '
                    f'stroke="#ddd" stroke-width="1"/>'
                    f'<text class="tick" x="{left - 6}" y="{_n(y + 4)}" text-anchor="end" fill="#444">'
                    f"{format_amount(tick).removesuffix('.00')}</text>")
        tick += step
    zero_y = y_of(ZERO)

    group_w = plot_w / len(categories)
    bar_w = group_w * Decimal("0.8") / len(names)
    show_values = len(categories) * len(names) <= MAX_BAR_LABELS
    label_limit = max(2, int(group_w / 11))
    for ci, category in enumerate(categories):
        gx = Decimal(left) + group_w * ci + group_w * Decimal("0.1")
        for si, name in enumerate(names):
            v = values[name][ci]
            x = gx + bar_w * si
            y_top = min(y_of(v), zero_y)
            h = abs(zero_y - y_of(v))
            text = f"{category} · {name}: {format_amount(v)}"
            body.append(f'<rect class="bar" data-series="{escape(name)}" data-category="{escape(category)}" '
                        f'data-value="{v}" x="{_n(x)}" y="{_n(y_top)}" width="{_n(bar_w)}" height="{_n(h)}" '
                        f'fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(text)}</title></rect>')
            if show_values and v != 0:
                ly = y_top - 3 if v > 0 else y_top + h + 10
                body.append(f'<text class="value" x="{_n(x + bar_w / 2)}" y="{_n(ly)}" text-anchor="middle" '
                            f'font-size="9" fill="#222">{format_amount(v)}</text>')
        body.append(f'<text class="category" x="{_n(Decimal(left) + group_w * ci + group_w / 2)}" '
                    f'y="{_n(Decimal(top) + plot_h + 15)}" text-anchor="middle">'
                    f"{escape(_short(category, label_limit))}<title>{escape(category)}</title></text>")
    body.append(f'<line class="axis" x1="{left}" x2="{_n(left + plot_w)}" y1="{_n(zero_y)}" y2="{_n(zero_y)}" '
                f'stroke="#333" stroke-width="1"/>')
    if len(names) > 1:
        body.extend(_legend(names, left, height - 8))
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
