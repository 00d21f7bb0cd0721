import re
from decimal import Decimal

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe

from config.fragments import FragmentMemo

from ..models import Course
from .govuk import money, when

register = template.Library()

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


# A slug in a course's address, replaced by each course's own (`course_cards`).
_SLUG_SLOT = "slug-slot-7d2f0c9e"
# What the `slug` path converter takes: any such slug is put in as it is.
_PLAIN_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


@register.simple_tag
def course_cards(courses) -> str:
    """The catalogue's cards for a page of `courses`
    (courses/includes/course_cards.html): each card's text is worked out
    here and the template renders them all at once.

    A card through Django's template language, one `render_to_string` per
    card reading the course's methods and filters, cost about 0.3 ms; most
    of it was `get_FOO_display` (which builds its choices' dict on every
    call), the date's translated names and `reverse`. Here the delivery
    modes' names are read once a page, a course's address is the page's one
    reversed address with its slug put in, and `when` keeps the day's text
    (`govuk.when`): 0.05 ms a card, whoever shows what. Cards
    used to be kept per process instead (a memo keyed by what a card
    shows), which paid only for cards shown before, and so did better the
    smaller the catalogue (docs/performance.md, "Eleventh round")."""
    detail = reverse("courses:detail", kwargs={"slug": _SLUG_SLOT})
    modes = {value: str(label) for value, label in Course.Mode.choices}
    cards = [
        {
            "url": (
                detail.replace(_SLUG_SLOT, course.slug)
                if _PLAIN_SLUG.fullmatch(course.slug)
                else course.get_absolute_url()
            ),
            "title": course.title,
            "summary": course.summary,
            "provider": course.provider.name,
            "mode": modes.get(course.mode, course.mode),
            "hours": hours(course.cpd_hours),
            "price": price(course.price),
            "topics": ", ".join(t.name for t in course.topics.all()),
            "next_session": when(course.next_starts_at, "D j M Y"),
            "places_left": course.next_places_left,
        }
        for course in courses
    ]
    return render_to_string("courses/includes/course_cards.html", {"cards": cards})


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
