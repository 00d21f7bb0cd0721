"""The SVG bar chart: named, pointing at its table, bars to scale, and no bar
for a hidden value (its length would give the value away)."""

import re
from decimal import Decimal

from reports.charts import bar_chart
from reports.selectors import Hidden


def test_a_chart_is_named_and_draws_bars_to_scale():
    svg = bar_chart(
        chart_id="c",
        title="Bookings by month",
        labels=["March", "April", "May"],
        values=[10, 5, Decimal("2.5")],
        table_caption="Bookings by month table",
    )
    assert 'role="img"' in svg
    assert 'aria-labelledby="c-title c-desc"' in svg
    assert '<title id="c-title">Bookings by month</title>' in svg
    assert "Bookings by month table" in svg
    widths = [int(w) for w in re.findall(r'<rect [^>]*width="(\d+)"', svg)]
    assert widths == [330, 165, 82]
    assert "style=" not in svg  # nothing for the Content-Security-Policy to refuse


def test_a_hidden_value_has_no_bar_and_shows_its_label():
    svg = bar_chart(
        chart_id="c",
        title="People by gender",
        labels=["Woman", "Man", "Not given"],
        values=[6, Hidden(5), 0],
        table_caption="t",
    )
    assert svg.count("<rect") == 1
    assert "&lt;5" in svg


def test_labels_are_escaped_and_shortened():
    svg = bar_chart(
        chart_id="c",
        title="<b>",
        labels=["<script>alert(1)</script>" + "x" * 40],
        values=[3],
        table_caption="t",
    )
    assert "<script>" not in svg
    assert "&lt;b&gt;" in svg
    assert "…" in svg


def test_a_report_with_many_rows_charts_the_largest_in_order():
    from reports.selectors import COUNT, Table
    from reports.views import _chart

    rows = [[f"Course {k:02d}", k % 7 if k != 3 else Hidden(5)] for k in range(60)]
    table = Table(
        key="t",
        title="Bookings",
        group_label="Course",
        columns=[("Bookings", COUNT)],
        rows=rows,
        totals=None,
        suppressed=True,
    )
    svg = _chart(table, "c")
    assert "Bookings: bookings by course (the 40 largest)" in svg
    assert svg.count("</rect>") == 40  # all of them more than 0
    # Every 6 (the largest) is drawn; the hidden one is not among the largest.
    for k in range(6, 60, 7):
        assert f">Course {k:02d}<" in svg
    assert ">Course 03<" not in svg
