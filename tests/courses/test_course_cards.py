"""Catalogue cards (catalogue.course_cards): a change to anything a card
shows is on the next page, and the card template reads nothing the tests do
not change. `when`'s day text, kept per language, day and format, follows
the language."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone, translation

from bookings.models import Booking
from config.fragments import FragmentMemo
from courses import services
from courses.models import Course
from courses.templatetags.govuk import when
from tests.accounts.factories import UserFactory
from tests.courses.factories import SessionFactory, TopicFactory

pytestmark = pytest.mark.django_db


def _change_title(session):
    Course.objects.filter(pk=session.course_id).update(title="Renamed course")
    return "Renamed course"


def _change_slug(session):
    Course.objects.filter(pk=session.course_id).update(slug="moved-course")
    return 'href="/courses/moved-course/"'


def _change_summary(session):
    Course.objects.filter(pk=session.course_id).update(summary="A new summary.")
    return "A new summary."


def _change_provider(session):
    session.course.provider.name = "Renamed provider"
    session.course.provider.save()
    return "<dd>Renamed provider</dd>"  # the filters list providers too


def _change_mode(session):
    Course.objects.filter(pk=session.course_id).update(mode=Course.Mode.E_LEARNING)
    return f"<dd>{Course.Mode.E_LEARNING.label}</dd>"


def _change_hours(session):
    Course.objects.filter(pk=session.course_id).update(cpd_hours=Decimal("7.5"))
    return "<dd>7.5 hours</dd>"


def _change_price(session):
    Course.objects.filter(pk=session.course_id).update(price=Decimal("1850"))
    return "<dd>£1,850</dd>"


def _change_topics(session):
    session.course.topics.add(TopicFactory.create(name="Added topic"))
    return "<dd>Added topic</dd>"


def _change_next_session(session):
    session.starts_at = timezone.localtime() + dt.timedelta(days=40)
    session.ends_at = session.starts_at + dt.timedelta(hours=1)
    session.save()
    return session.starts_at.strftime("%-d %b %Y")


def _change_places(session):
    Booking.objects.create(
        person=UserFactory.create(), session=session, status="confirmed"
    )
    return "9 places left"


# What the card template reads -> a change to it.
CHANGES = {
    "url": _change_slug,
    "title": _change_title,
    "summary": _change_summary,
    "provider": _change_provider,
    "mode": _change_mode,
    "hours": _change_hours,
    "price": _change_price,
    "topics": _change_topics,
    "next_session": _change_next_session,
    "places_left": _change_places,
}


def test_the_card_template_reads_nothing_the_tests_do_not_change():
    template = Path(settings.BASE_DIR, "templates/courses/includes/course_cards.html")
    read = set(re.findall(r"card\.(\w+)", template.read_text()))
    assert read == set(CHANGES)


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_change_to_anything_a_card_shows_is_on_the_next_page(client, change):
    session = SessionFactory.create(capacity=10)
    assert "10 places left" in client.get("/courses/").content.decode()
    shown = change(session)
    services.catalogue_changed()  # what every admin save and booking calls
    assert shown in client.get("/courses/").content.decode()


def test_the_memo_keeps_the_most_recent_entries_only():
    memo = FragmentMemo(size=2)
    renders = []

    def render(text):
        renders.append(text)
        return text

    assert memo.get_or_render(("a",), lambda: render("A")) == "A"
    assert memo.get_or_render(("b",), lambda: render("B")) == "B"
    assert memo.get_or_render(("a",), lambda: render("A again")) == "A"
    assert memo.get_or_render(("c",), lambda: render("C")) == "C"  # drops "b"
    assert len(memo) == 2
    assert memo.get_or_render(("b",), lambda: render("B again")) == "B again"
    assert renders == ["A", "B", "C", "B again"]


def test_a_card_shows_each_value_as_the_course_has_it(client):
    session = SessionFactory.create(
        capacity=1,
        course__slug="phonics-for-year-1",
        course__title="Phonics <for> Year 1",
        course__summary="Sounds & letters.",
        course__mode=Course.Mode.LIVE_ONLINE,
        course__cpd_hours=Decimal("1"),
        course__price=Decimal("75.50"),
    )
    Booking.objects.create(
        person=UserFactory.create(), session=session, status="confirmed"
    )
    page = client.get("/courses/").content.decode()
    assert '<a class="govuk-link" href="/courses/phonics-for-year-1/">' in page
    assert "Phonics &lt;for&gt; Year 1" in page  # escaped
    assert "Sounds &amp; letters." in page
    assert f"<dd>{Course.Mode.LIVE_ONLINE.label}</dd>" in page
    assert "<dd>1 hour</dd>" in page
    assert "<dd>£75.50</dd>" in page
    assert "<dd>None</dd>" in page  # no topics
    assert "full, join the waiting list" in page
    day = timezone.localtime(session.starts_at)
    assert day.strftime("%a %-d %b %Y") in page


def test_the_day_of_when_follows_the_language():
    moment = dt.datetime(2027, 3, 1, 10, tzinfo=dt.UTC)
    with translation.override("en-gb"):
        english = when(moment, "l j F Y")
    with translation.override("cy"):
        welsh = when(moment, "l j F Y")
    with translation.override("en-gb"):
        assert when(moment, "l j F Y") == english
    assert english == "Monday 1 March 2027 at 10am"
    assert welsh != english  # the day's name is translated, not kept from before
