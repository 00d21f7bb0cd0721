from decimal import Decimal

from django import template
from django.utils.html import format_html

from reports.selectors import MONEY, Hidden

register = template.Library()


@register.simple_tag
def report_cell(value, kind: str = ""):
    """A table cell's text: "<5" (with words for screen readers) for a hidden
    value, an en dash for none, £ and thousands separators for money."""
    if isinstance(value, Hidden):
        return format_html(
            '{}<span class="govuk-visually-hidden"> (fewer than {}, not shown)</span>',
            str(value),
            value.threshold,
        )
    if value is None:
        return "\u2013"  # an en dash: no figure
    if kind == MONEY and isinstance(value, Decimal | int):
        return f"£{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return value
