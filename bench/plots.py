"""Plain SVG pictures for bench/README.md (no plotting library): the fan-out latency distribution."""

from __future__ import annotations

from html import escape
from pathlib import Path

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def cdf_svg(series: dict[str, list[float]], path: Path, title: str, goal_ms: dict[str, float] | None = None) -> Path:
    """A cumulative distribution per series (x: milliseconds, log scale from 1 ms; y: share of
    deliveries at or under x), with each series' goal as a dashed vertical line."""
    import math

    width, height, left, right, top, bottom = 760, 420, 60, 180, 40, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    everything = [v for values in series.values() for v in values if v > 0]
    high = max(everything + list((goal_ms or {}).values()) + [10.0])
    low, top_ms = 1.0, 10 ** math.ceil(math.log10(high))

    def x(ms: float) -> float:
        return left + plot_w * (math.log10(max(ms, low)) - math.log10(low)) / (math.log10(top_ms) - math.log10(low))

    def y(share: float) -> float:
        return top + plot_h * (1 - share)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="22" font-size="14">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="black"/>',
    ]
    decade = low
    while decade <= top_ms:
        out.append(f'<line x1="{x(decade):.1f}" y1="{top}" x2="{x(decade):.1f}" y2="{top + plot_h}" stroke="#ddd"/>')
        out.append(f'<text x="{x(decade):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{decade:g} ms</text>')
        decade *= 10
    for share in (0, 0.25, 0.5, 0.75, 1.0):
        out.append(f'<line x1="{left}" y1="{y(share):.1f}" x2="{left + plot_w}" y2="{y(share):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{y(share) + 4:.1f}" text-anchor="end">{share:.0%}</text>')
    out.append(
        f'<text x="{left + plot_w / 2}" y="{height - 10}" text-anchor="middle">time from sending the mutation to the delivery (log scale)</text>'
    )
    for k, (label, values) in enumerate(series.items()):
        color = COLORS[k % len(COLORS)]
        ordered = sorted(values)
        if not ordered:
            continue
        n = len(ordered)
        step = max(1, n // 400)
        points = [(x(v), y((i + 1) / n)) for i, v in enumerate(ordered) if i % step == 0 or i == n - 1]
        out.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in points)}"/>'
        )
        goal = (goal_ms or {}).get(label)
        if goal:
            out.append(
                f'<line x1="{x(goal):.1f}" y1="{top}" x2="{x(goal):.1f}" y2="{top + plot_h}" stroke="{color}" stroke-dasharray="5,4"/>'
            )
        legend_y = top + 18 * k + 10
        out.append(
            f'<line x1="{left + plot_w + 15}" y1="{legend_y}" x2="{left + plot_w + 35}" y2="{legend_y}" stroke="{color}" stroke-width="2"/>'
        )
        out.append(f'<text x="{left + plot_w + 40}" y="{legend_y + 4}">{escape(label)} (n={n})</text>')
    out.append(
        f'<text x="{left + plot_w + 15}" y="{top + 18 * len(series) + 20}" fill="#555">dashed: goal of the last delivery</text>'
    )
    out.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out))
    return path
