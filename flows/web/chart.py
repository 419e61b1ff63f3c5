"""Alerts per topic per day as inline SVG, drawn on the server (no script, no external asset).

Rules: one small row of bars per topic (a shared day axis, oldest day on the left, newest on the
right), the count written over each non-empty bar; every label is XML-escaped; the SVG scales
to the screen's width (viewBox), so it stays readable on a phone.
"""

from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape

PALETTE = ("#1a5d8f", "#b5462e", "#2e7d4f", "#8a5a9e", "#a17c12", "#4f6b73")
ROW_H = 60
LEFT = 8
TOP = 8
BAR_GAP = 3


def alerts_chart(span: list[date], counts: dict[str, list[int]], names: dict[str, str],
                 order: list[str], width: int = 420) -> Markup:
    topics = [t for t in order if t in counts] + sorted(t for t in counts if t not in order)
    if not topics or not span:
        return Markup("")
    peak = max(max(v) for v in counts.values()) or 1
    slot = (width - 2 * LEFT) / len(span)
    height = TOP + ROW_H * len(topics) + 22
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" dir="ltr" role="img" '
             f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMidYMid meet">',
             f"<title>{escape('التنبيهات لكل موضوع في اليوم')}</title>"]
    for row, topic in enumerate(topics):
        y0 = TOP + row * ROW_H
        colour = PALETTE[row % len(PALETTE)]
        label = escape(names.get(topic, topic))
        parts.append(f'<text x="{width - LEFT}" y="{y0 + 11}" text-anchor="end" class="chart-topic">{label} ({sum(counts[topic])})</text>')
        base = y0 + ROW_H - 6
        for i, n in enumerate(counts[topic]):
            x = LEFT + i * slot + BAR_GAP / 2
            h = 0 if n == 0 else max(2.0, (ROW_H - 34) * n / peak)
            day = span[i].isoformat()
            parts.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{max(1.0, slot - BAR_GAP):.1f}" '
                         f'height="{h:.1f}" fill="{colour}" data-topic="{escape(topic)}" data-day="{day}" '
                         f'data-count="{n}"><title>{day}: {n}</title></rect>')
            if n:
                parts.append(f'<text x="{x + (slot - BAR_GAP) / 2:.1f}" y="{base - h - 2:.1f}" '
                             f'text-anchor="middle" class="chart-n">{n}</text>')
        parts.append(f'<line x1="{LEFT}" x2="{width - LEFT}" y1="{base + 0.5}" y2="{base + 0.5}" class="chart-axis"/>')
    axis_y = TOP + ROW_H * len(topics) + 14
    for i in (0, len(span) // 2, len(span) - 1):
        x = LEFT + i * slot + slot / 2
        parts.append(f'<text x="{x:.1f}" y="{axis_y}" text-anchor="middle" class="chart-day">'
                     f'{span[i].strftime("%m-%d")}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
