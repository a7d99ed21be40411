"""Metric distributions as small SVG histograms (no plotting library needed)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np

WIDTH, HEIGHT, MARGIN = 360, 200, 34


def histogram_svg(values: Sequence[float], title: str, bounded: bool = True, bins: int = 20) -> str:
    """An SVG histogram of the finite ``values``; metrics in [0, 1] use fixed 0..1 bins."""
    data = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if bounded:
        edges = np.linspace(0.0, 1.0, bins + 1)
    else:
        top = float(data.max()) if data.size else 1.0
        edges = np.linspace(0.0, top if top > 0 else 1.0, bins + 1)
    counts, _ = np.histogram(np.clip(data, edges[0], edges[-1]), bins=edges)
    peak = max(int(counts.max()) if counts.size else 0, 1)
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    bar_w = plot_w / bins
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">',
        f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" font-size="13">{escape(title)} (n={data.size})</text>',
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" y2="{HEIGHT - MARGIN}" stroke="black"/>',
        f'<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{HEIGHT - MARGIN}" stroke="black"/>',
    ]
    for index, count in enumerate(counts):
        height = plot_h * count / peak
        x = MARGIN + index * bar_w
        parts.append(
            f'<rect x="{x:.1f}" y="{HEIGHT - MARGIN - height:.1f}" width="{bar_w - 1:.1f}" height="{height:.1f}" fill="#4a78b5"/>'
        )
    for value, anchor in ((edges[0], "start"), (edges[-1], "end")):
        x = MARGIN if anchor == "start" else WIDTH - MARGIN
        parts.append(f'<text x="{x}" y="{HEIGHT - MARGIN + 14}" text-anchor="{anchor}">{value:.3g}</text>')
    parts.append(f'<text x="{MARGIN - 4}" y="{MARGIN + 4}" text-anchor="end">{peak}</text>')
    parts.append(f'<text x="{MARGIN - 4}" y="{HEIGHT - MARGIN}" text-anchor="end">0</text>')
    parts.append("</svg>\n")
    return "\n".join(parts)
