"""Bar charts drawn on the server as SVG: no JavaScript, no CDN. Each chart is decorative beside its data
table (the table is what a screen reader reads), so the SVG carries a short title and nothing else."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, BAR_HEIGHT, GAP, LABEL_WIDTH = 640, 22, 6, 180


def bar_chart(series: list[tuple[str, float]], title: str, unit: str = "") -> Markup:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    if not series:
        return Markup("")
    top = max((v for _, v in series), default=0) or 1
    height = len(series) * (BAR_HEIGHT + GAP) + GAP
    span = WIDTH - LABEL_WIDTH - 70
    parts = [
        f'<svg class="app-chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)} (chart; the same figures are in the table)" focusable="false" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, value) in enumerate(series):
        y = GAP + i * (BAR_HEIGHT + GAP)
        width = max(1.0, span * value / top) if value else 0.0
        shown = f"{value:g}{(' ' + unit) if unit else ''}"
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT * 0.7:.1f}" text-anchor="end" '
            f'font-size="13" fill="#0b0c0c">{escape(label[:28])}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" fill="#1d70b8"></rect>'
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + BAR_HEIGHT * 0.7:.1f}" font-size="13" '
            f'fill="#0b0c0c">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text inside is escaped above
