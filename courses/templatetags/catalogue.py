from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def price(value: Decimal | None) -> str:
    if not value:
        return "Free"
    return f"£{value:,.2f}"


@register.filter
def hours(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)
    return f"{text} hour" if text == "1" else f"{text} hours"
