"""Bar charts as inline SVG, drawn on the server: no chart library and nothing fetched by the browser.

The SVG scales to its container's width (viewBox), so one drawing serves a phone and a desktop. Colours come
from the page's stylesheet through class names (`series-0`, `series-1`, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 220
LEFT = 40  # room for the value axis labels
BOTTOM = 40  # room for the period labels
TOP = 12
GRID_LINES = 4


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # None: nothing to show for that period


def nice_ceiling(value: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, at or above `value` (at least 1): a grid step that reads well."""
    if value <= 1:
        return 1.0
    power = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10.0 * power


def _number(value: float) -> str:
    return f"{value:g}" if value < 10_000 else f"{value / 1000:g}k"


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], *, unit: str = "") -> Markup:
    """Grouped bars: one group per label, one bar per series. `title` is the chart's accessible name."""
    values = [v for s in series for v in s.values if v is not None]
    top = nice_ceiling(max(values, default=0) / GRID_LINES) * GRID_LINES  # grid lines at round values
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(1, len(labels))
    bar_w = max(2.0, group_w * 0.8 / max(1, len(series)))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i in range(GRID_LINES + 1):
        value = top * i / GRID_LINES
        y = TOP + plot_h - plot_h * i / GRID_LINES
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{_number(value)}</text>')
    every = max(1, round(len(labels) / 5))  # at most about 5 period labels, so they stay apart on a phone
    for g, label in enumerate(labels):
        x0 = LEFT + g * group_w + group_w * 0.1
        for k, s in enumerate(series):
            value = s.values[g] if g < len(s.values) else None
            if value is None:
                continue
            h = plot_h * value / top
            x = x0 + k * bar_w
            tip = f"{label}: {s.name} {_number(value)}{unit}"
            parts.append(
                f'<rect class="series-{k}" x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{h:.1f}"><title>{escape(tip)}</title></rect>'
            )
        if (len(labels) - 1 - g) % every == 0:  # counted from the latest period, which is always labelled
            cx = LEFT + g * group_w + group_w / 2
            y = HEIGHT - BOTTOM + 16
            parts.append(f'<text class="axis" x="{cx:.1f}" y="{y}" text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    legend = "".join(
        f'<span class="legend"><i class="swatch series-{k}"></i>{escape(s.name)}</span>' for k, s in enumerate(series)
    )
    return Markup(
        f'<figure class="chart-box"><figcaption>{escape(title)} {legend}</figcaption>{"".join(parts)}</figure>'
    )
