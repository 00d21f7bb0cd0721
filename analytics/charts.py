"""Charts drawn on the server as SVG: no script, no CDN, nothing to load.

Each chart is an <svg role="img"> named by its <title> and described by its
<desc> (aria-labelledby), and the page puts a table of the same figures
beside it for anyone who cannot see it. Colours are presentation attributes
(the Content-Security-Policy allows no inline style).
"""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

COLOURS = ("#005a5b", "#d4351c", "#1d70b8", "#6f72af")  # brand, red, blue, purple
TEXT = "#0b0c0c"
AXIS = "#505a5f"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000):
        if value <= step * 4:
            return step * 4
    magnitude = 10 ** (len(str(int(value))) - 1)
    return -(-value // magnitude) * magnitude


def _svg(
    chart_id: str, title: str, desc: str, width: int, height: int, body: list[str]
):
    return mark_safe(  # noqa: S308 (every text below is escaped)
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def column_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    labels: list[str],
    series: list[tuple[str, list[float]]],
) -> SafeString:
    """Grouped columns: one group per label, one column per series, a legend."""
    width, height, left, bottom, top = 560, 300, 52, 40, 34
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = _nice_max(max((v for _, values in series for v in values), default=0))
    body = [f'<g font-family="Arial, sans-serif" font-size="14" fill="{TEXT}">']
    for n, (name, _values) in enumerate(series):
        x = left + n * 130
        body.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{COLOURS[n % 4]}"/>'
            f'<text x="{x + 18}" y="17">{escape(name)}</text>'
        )
    for step in range(5):
        value = peak * step / 4
        y = top + plot_h - plot_h * step / 4
        body.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#b1b4b6" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>'
        )
    groups = max(1, len(labels))
    group_w = plot_w / groups
    bar_w = max(1.0, group_w * 0.8 / max(1, len(series)))
    label_every = max(1, groups // 10)
    for i, label in enumerate(labels):
        gx = left + i * group_w + group_w * 0.1
        for n, (_name, values) in enumerate(series):
            value = values[i] if i < len(values) else 0
            h = plot_h * value / peak
            body.append(
                f'<rect x="{gx + n * bar_w:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="{COLOURS[n % 4]}"/>'
            )
        if i % label_every == 0:
            body.append(
                f'<text x="{left + (i + 0.5) * group_w:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    body.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="{AXIS}"/>'
        "</g>"
    )
    return _svg(chart_id, title, desc, width, height, body)


def bar_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    rows: list[tuple[str, float]],
    unit: str = "",
) -> SafeString:
    """Horizontal bars, one per row, each labelled with its value."""
    row_h, label_w, width = 28, 240, 560
    height = max(1, len(rows)) * row_h + 10
    peak = max((v for _, v in rows), default=0) or 1
    body = [f'<g font-family="Arial, sans-serif" font-size="14" fill="{TEXT}">']
    for i, (label, value) in enumerate(rows):
        y = 5 + i * row_h
        w = (width - label_w - 80) * value / peak
        short = label if len(label) <= 32 else label[:31] + "…"
        body.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">{escape(short)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{COLOURS[0]}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}">{value:g}{escape(unit)}</text>'
        )
    body.append("</g>")
    return _svg(chart_id, title, desc, width, height, body)
