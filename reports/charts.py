"""Bar charts drawn on the server as inline SVG: no script, no CDN, nothing
for the Content-Security-Policy to allow (presentation attributes, no style).

A chart is a picture of a table printed beside it: the SVG has an accessible
name (`<title>`) and says where its figures are (`<desc>`), and a hidden
(suppressed) value is drawn as no bar with its "<5" label, never as a length.
"""

from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

BAR = "#1d70b8"
TEXT = "#0b0c0c"
WIDTH = 640
LABEL_WIDTH = 220
ROW = 26
MAX_BARS = 40


def _number(value) -> float | None:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return float(value)
    return None


def _shown(value) -> str:
    if value is None:
        return "\u2013"  # an en dash: no figure
    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def bar_chart(
    *, chart_id: str, title: str, labels: list[str], values: list, table_caption: str
) -> SafeString:
    """Horizontal bars, one per label (the first MAX_BARS), scaled to the
    largest value shown."""
    labels, values = labels[:MAX_BARS], values[:MAX_BARS]
    numbers = [_number(v) for v in values]
    top = max([n for n in numbers if n is not None] or [0]) or 1
    height = ROW * len(labels) + 10
    bar_space = WIDTH - LABEL_WIDTH - 90
    parts = []
    for k, (label, value, number) in enumerate(
        zip(labels, values, numbers, strict=True)
    ):
        y = 5 + k * ROW
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" font-size="13" fill="{}">'
                "{}</text>",
                LABEL_WIDTH - 8,
                y + 17,
                TEXT,
                short,
            )
        )
        length = 0
        if number is not None and number > 0:
            length = max(1, round(bar_space * number / top))
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"></rect>',
                    LABEL_WIDTH,
                    y + 3,
                    length,
                    ROW - 8,
                    BAR,
                )
            )
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="13" fill="{}">{}</text>',
                LABEL_WIDTH + length + 6,
                y + 17,
                TEXT,
                _shown(value),
            )
        )
    more = ""
    if not labels:
        more = "No figures to draw."
    svg = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
        'viewBox="0 0 {w} {h}" aria-labelledby="{cid}-title {cid}-desc" '
        'id="{cid}" class="app-chart" '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif">'
        '<title id="{cid}-title">{title}</title>'
        '<desc id="{cid}-desc">Bar chart. The figures are in the table '
        '"{table}" on this page. {more}</desc>{body}</svg>',
        w=WIDTH,
        h=max(height, 30),
        cid=chart_id,
        title=title,
        table=table_caption,
        more=more,
        body=mark_safe("".join(parts)),  # noqa: S308 - each part built by format_html
    )
    return svg
