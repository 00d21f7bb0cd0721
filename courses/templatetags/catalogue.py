from decimal import Decimal

from django import template

from .govuk import money

register = template.Library()


@register.filter
def price(value: Decimal | None) -> str:
    """ "Free", or the price in GOV.UK style: "£1,850", "£75.50"."""
    if not value:
        return "Free"
    return money(value)


@register.filter
def hours(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)
    return f"{text} hour" if text == "1" else f"{text} hours"
