"""Server-side SVG charts: real plots without JavaScript or a CDN.

Every data point is an element (a ``<circle>`` on a line chart, a ``<rect>`` on a bar chart)
with ``data-series``, ``data-x`` and ``data-y`` attributes and a ``<title>`` tooltip.
Colours are the Okabe-Ito palette (distinguishable with colour-vision deficiencies); each
series also has a legend entry, and line series a distinct dash pattern.

>>> svg = line_chart("Pass rate", ["2026-01", "2026-02"], {"a": [0.5, None], "b": [1.0, 0.25]},
...                  percent=True)
>>> svg.count("<circle"), 'data-series="b"' in svg, "<title>b, 2026-02: 25%</title>" in svg
(3, True, True)
>>> "<script" in line_chart("<script>", ["m"], {"<script>": [1.0]})
False
"""

from __future__ import annotations

import math
from html import escape

from markupsafe import Markup

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#999999")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "", "6 3", "2 3", "8 3 2 3")
W, H = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 180, 28, 48


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:.3g}"


def nice_max(value: float) -> float:
    """The smallest round axis maximum (4 ticks of 1, 2, 2.5 or 5 x 10^k) at or above value.

    >>> nice_max(9), nice_max(367), nice_max(0.4), nice_max(0)
    (10.0, 400.0, 0.4, 1.0)
    """
    if value <= 0:
        return 1.0
    step = value / 4
    power: float = 10.0 ** math.floor(math.log10(step))
    for m in (1, 2, 2.5, 5, 10):
        if step <= m * power * (1 + 1e-9):
            return float(round(4 * m * power, 12))
    return 40.0 * power  # pragma: no cover - m = 10 always fits


def _axes(
    title: str, months: list[str], y_max: float, percent: bool, slug: str
) -> tuple[list[str], float, float]:
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    step = plot_w / max(len(months), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {W} {H}" width="{W}" height="{H}" data-chart="{escape(slug)}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="16" class="chart-title">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'class="axis"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" class="axis"/>',
    ]
    for k in range(5):
        v = y_max * k / 4
        y = TOP + plot_h - plot_h * k / 4
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
            f"{escape(_fmt(v, percent))}</text>"
        )
    every = max(1, len(months) // 12)
    for i, mo in enumerate(months):
        if i % every == 0:
            x = LEFT + step * (i + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                f'class="tick">{escape(mo[2:] if len(months) > 6 else mo)}</text>'
            )
    return parts, step, plot_h


def _legend(names: list[str], line: bool) -> list[str]:
    parts = []
    for i, name in enumerate(names):
        y = TOP + 8 + i * 18
        x = W - RIGHT + 14
        color = PALETTE[i % len(PALETTE)]
        if line:
            dash = DASHES[i % len(DASHES)]
            parts.append(
                f'<line x1="{x}" y1="{y}" x2="{x + 22}" y2="{y}" stroke="{color}" '
                f'stroke-width="2.5" stroke-dasharray="{dash}"/>'
            )
        else:
            parts.append(f'<rect x="{x + 4}" y="{y - 6}" width="12" height="12" fill="{color}"/>')
        label = name if len(name) <= 20 else name[:19] + "…"
        parts.append(
            f'<text x="{x + 28}" y="{y + 4}" class="legend"><title>{escape(name)}</title>'
            f"{escape(label)}</text>"
        )
    return parts


def line_chart(
    title: str,
    months: list[str],
    series: dict[str, list[float | None]],
    *,
    percent: bool = False,
    slug: str = "chart",
) -> Markup:
    """One polyline per series, one circle per (series, month) that has a value."""
    values = [v for vs in series.values() for v in vs if v is not None]
    y_max = 1.0 if percent else nice_max(max(values, default=0.0))
    parts, step, plot_h = _axes(title, months, y_max, percent, slug)
    for i, (name, vs) in enumerate(series.items()):
        color, dash = PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)]
        points = []
        dots = []
        for k, v in enumerate(vs):
            if v is None:
                continue
            x = LEFT + step * (k + 0.5)
            y = TOP + plot_h - plot_h * (v / y_max)
            points.append(f"{x:.1f},{y:.1f}")
            tip = f"{name}, {months[k]}: {_fmt(v, percent)}"
            dots.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}" class="point" '
                f'data-series="{escape(name)}" data-x="{escape(months[k])}" data-y="{v:.6g}">'
                f"<title>{escape(tip)}</title></circle>"
            )
        if len(points) > 1:
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                f'stroke-dasharray="{dash}" points="{" ".join(points)}"/>'
            )
        parts.extend(dots)
    parts.extend(_legend(list(series), line=True))
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    title: str, months: list[str], series: dict[str, list[float | None]], *, slug: str = "chart"
) -> Markup:
    """Stacked bars: one rect per (series, month) that has a value."""
    totals = [sum(vs[k] or 0 for vs in series.values()) for k in range(len(months))]
    y_max = nice_max(max(totals, default=0.0))
    parts, step, plot_h = _axes(title, months, y_max, False, slug)
    base = [0.0] * len(months)
    width = step * 0.7
    for i, (name, vs) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        for k, v in enumerate(vs):
            if not v:
                continue
            h = plot_h * (v / y_max)
            y = TOP + plot_h - plot_h * (base[k] / y_max) - h
            x = LEFT + step * k + (step - width) / 2
            base[k] += v
            tip = f"{name}, {months[k]}: {_fmt(v, False)}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" '
                f'fill="{color}" class="point" data-series="{escape(name)}" '
                f'data-x="{escape(months[k])}" data-y="{v:.6g}"><title>{escape(tip)}</title></rect>'
            )
    parts.extend(_legend(list(series), line=False))
    parts.append("</svg>")
    return Markup("".join(parts))
