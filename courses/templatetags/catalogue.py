from decimal import Decimal

from django import template
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.safestring import mark_safe

from config.fragments import FragmentMemo

from .govuk import money

register = template.Library()

# About 1.5 KB a card with its key: a few megabytes per process at most.
CARDS = FragmentMemo(size=2000)
# The filter form's fields: a few KB each (the topic and provider lists).
FILTER_FIELDS = FragmentMemo(size=2000)


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


@register.simple_tag
def course_card(course) -> str:
    """courses/includes/course_card.html for a course of the catalogue, kept
    per process keyed by every value the template reads (config/fragments.py)."""
    key = (
        "course_card",
        get_script_prefix(),
        course.pk,
        course.slug,
        course.title,
        course.summary,
        course.provider.name,
        course.mode,
        course.cpd_hours,
        course.price,
        tuple(t.name for t in course.topics.all()),
        course.next_starts_at,
        course.next_places_left,
    )
    return CARDS.get_or_render(
        key,
        lambda: render_to_string(
            "courses/includes/course_card.html", {"course": course}
        ),
    )


@register.simple_tag
def filter_form(form) -> str:
    """The catalogue's filter form, each field kept per process keyed by all
    that varies between requests: the value given, its errors, its choices
    (config/fragments.py). Django renders a form through about twenty
    templates, a fifth of a cold catalogue page; most fields of most searches
    are as another search had them (no topic, no provider, ...)."""
    if form.non_field_errors() or form.hidden_fields():
        return str(form)  # not the catalogue's form as it is: no shortcut
    return mark_safe(  # noqa: S308 - each part is Django's own escaped rendering
        "".join(
            FILTER_FIELDS.get_or_render(
                (
                    "filter_field",
                    type(form).__qualname__,
                    field.name,
                    str(field.label),
                    str(field.help_text),
                    repr(field.value()),
                    tuple(str(e) for e in field.errors),
                    tuple(
                        (str(value), str(label))
                        for value, label in getattr(field.field, "choices", ())
                    ),
                ),
                field.as_field_group,
            )
            for field in form.visible_fields()
        )
    )
