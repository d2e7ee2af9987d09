"""Tiny bar charts as inline SVG, drawn by hand: no plotting library, nothing to load.

Every text that goes into a chart is escaped here; sizes are in SVG user units, and the
charts scale with the page (`viewBox`, no fixed pixel size).
"""

from __future__ import annotations

from html import escape
from typing import Sequence

WIDTH, HEIGHT = 360, 150
BAR = "#4c72b0"
FULL = "#55a868"
TRACK = "#e5e7eb"
INK = "#374151"


def _svg(width: int, height: int, label: str, kind: str, body: list[str]) -> str:
    return (f'<svg class="chart {kind}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
            f"<title>{escape(label)}</title>" + "".join(body) + "</svg>")


def histogram(counts: Sequence[int], label: str, axis: tuple[str, str, str] = ("0", "50%", "100%"),
              tips: Sequence[str] = ()) -> str:
    """Vertical bars, one per bin, its count above it; `axis`: the left, middle and right
    labels under the bins; `tips`: a tooltip per bar."""
    left, top, bottom = 8, 18, 20
    plot_w, plot_h = WIDTH - 2 * left, HEIGHT - top - bottom
    step = plot_w / max(len(counts), 1)
    highest = max(counts, default=0) or 1
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
            f'stroke="{INK}" stroke-width="1"/>']
    for index, count in enumerate(counts):
        height = plot_h * count / highest
        x = left + index * step + 2
        y = top + plot_h - height
        tip = tips[index] if index < len(tips) else str(count)
        body.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{step - 4:.1f}" '
                    f'height="{height:.1f}" fill="{BAR}" data-count="{count}">'
                    f"<title>{escape(tip)}</title></rect>")
        if count:
            body.append(f'<text x="{x + (step - 4) / 2:.1f}" y="{y - 4:.1f}" font-size="11" '
                        f'text-anchor="middle" fill="{INK}">{count}</text>')
    baseline = top + plot_h + 14
    for text, x, anchor in ((axis[0], left, "start"), (axis[1], left + plot_w / 2, "middle"),
                            (axis[2], left + plot_w, "end")):
        body.append(f'<text x="{x:.1f}" y="{baseline}" font-size="11" text-anchor="{anchor}" '
                    f'fill="{INK}">{escape(text)}</text>')
    return _svg(WIDTH, HEIGHT, label, "histogram", body)


def rate_bars(rows: Sequence[tuple[str, float | None, str]], label: str) -> str:
    """Horizontal bars from 0 to 1, one row per (name, rate or None, text at its end)."""
    row_h, name_w, text_w = 18, 150, 70
    width = WIDTH + 40
    bar_w = width - name_w - text_w
    height = row_h * len(rows) + 4
    body = []
    for index, (name, rate, text) in enumerate(rows):
        y = 2 + index * row_h
        shown = name if len(name) <= 24 else name[:23] + "…"
        body.append(f'<text x="{name_w - 6}" y="{y + 12}" font-size="11" text-anchor="end" '
                    f'fill="{INK}">{escape(shown)}<title>{escape(name)}</title></text>')
        body.append(f'<rect x="{name_w}" y="{y + 2}" width="{bar_w}" height="{row_h - 6}" '
                    f'fill="{TRACK}"/>')
        if rate is not None:
            color = FULL if rate >= 1 else BAR
            body.append(f'<rect class="bar" x="{name_w}" y="{y + 2}" width="{bar_w * rate:.1f}" '
                        f'height="{row_h - 6}" fill="{color}"><title>{escape(name)}: '
                        f"{escape(text)}</title></rect>")
        body.append(f'<text x="{name_w + bar_w + 6}" y="{y + 12}" font-size="11" '
                    f'fill="{INK}">{escape(text)}</text>')
    return _svg(width, height, label, "rates", body)
