"""Course.facets: what the catalogue filters on besides words and dates,
kept by PostgreSQL triggers whoever writes, and the catalogue filtered
through it lists exactly what filtering on the columns lists."""

import datetime as dt
import itertools
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from courses import selectors, services
from courses.models import Course, Topic
from tests.courses.factories import (
    CourseFactory,
    ProviderFactory,
    SessionFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


def facets(course: Course) -> set[str]:
    value = Course.objects.values_list("facets", flat=True).get(pk=course.pk)
    return set(re.findall(r"'([^']*)'", value or ""))


def expected(course: Course) -> set[str]:
    course = Course.objects.get(pk=course.pk)
    return {
        "m" + course.mode.replace("_", ""),
        f"p{course.provider_id}",
        *(["free"] if course.price == 0 else []),
        *(f"t{pk}" for pk in course.topics.values_list("pk", flat=True)),
    }


def test_facets_follow_every_writer_of_a_course_and_its_topics():
    first, second = TopicFactory.create_batch(2)
    course = CourseFactory.create(topics=[first], price=Decimal("0"))
    assert (
        facets(course)
        == expected(course)
        == {
            "minperson",
            f"p{course.provider_id}",
            "free",
            f"t{first.pk}",
        }
    )
    course.topics.add(second)
    assert facets(course) == expected(course)
    course.topics.remove(first)
    assert facets(course) == {
        "minperson",
        f"p{course.provider_id}",
        "free",
        f"t{second.pk}",
    }

    # A copy loaded before the topics changed saves without writing them back.
    stale = Course.objects.get(pk=course.pk)
    course.topics.set([first, second])
    stale.title = "Renamed"
    stale.price = Decimal("40")
    stale.save()
    assert facets(course) == expected(course)
    assert "free" not in facets(course)
    assert {f"t{first.pk}", f"t{second.pk}"} <= facets(course)

    Course.objects.filter(pk=course.pk).update(
        mode=Course.Mode.LIVE_ONLINE, provider=ProviderFactory.create()
    )
    assert facets(course) == expected(course)
    assert "mliveonline" in facets(course)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE courses_course SET price = 0, mode = 'e_learning' WHERE id = %s",
            [course.pk],
        )
        cursor.execute(
            "DELETE FROM courses_course_topics WHERE course_id = %s AND topic_id = %s",
            [course.pk, first.pk],
        )
    assert facets(course) == expected(course)
    assert {"melearning", "free"} <= facets(course)

    Topic.objects.filter(pk=second.pk).delete()  # its links go with it
    course.topics.clear()
    assert (
        facets(course)
        == expected(course)
        == {
            "melearning",
            f"p{Course.objects.get(pk=course.pk).provider_id}",
            "free",
        }
    )

    made = Course.objects.bulk_create(
        [
            Course(
                slug="bulk",
                title="Bulk",
                summary="s",
                description="d",
                provider=course.provider,
                cpd_hours=1,
                price=Decimal("5"),
                mode=Course.Mode.IN_PERSON,
            )
        ]
    )
    assert facets(made[0]) == expected(made[0])


def world():
    """Courses over every mix of two topics, two providers, modes and prices,
    each with a session still to come."""
    topics = TopicFactory.create_batch(2)
    providers = ProviderFactory.create_batch(2)
    modes = [Course.Mode.IN_PERSON, Course.Mode.LIVE_ONLINE, Course.Mode.E_LEARNING]
    for n, (topic_set, provider, mode, price) in enumerate(
        itertools.product(
            [[], [topics[0]], [topics[1]], topics], providers, modes, [0, 25]
        )
    ):
        course = CourseFactory.create(
            topics=topic_set, provider=provider, mode=mode, price=Decimal(price)
        )
        SessionFactory.create(
            course=course, starts_at=timezone.now() + dt.timedelta(days=1 + n % 5)
        )
    services.reindex_courses()
    return topics, providers


def test_the_catalogue_filtered_by_facets_lists_what_the_columns_list():
    topics, providers = world()
    now = timezone.now()
    for topic, provider, mode, free in itertools.product(
        [None, *topics],
        [None, *providers],
        ["", Course.Mode.LIVE_ONLINE],
        [False, True],
    ):
        filters = selectors.CatalogueFilters(
            topic=topic, provider=provider, mode=mode, free=free
        )
        reference = Course.objects.filter(
            status=Course.Status.PUBLISHED, sessions__starts_at__gt=now
        )
        if topic:
            reference = reference.filter(topics=topic)
        if provider:
            reference = reference.filter(provider=provider)
        if mode:
            reference = reference.filter(mode=mode)
        if free:
            reference = reference.filter(price=0)
        wanted = set(reference.values_list("pk", flat=True))
        assert wanted, filters
        listed = {c.pk for c in selectors.courses_for_catalogue(filters, now=now)}
        assert listed == wanted, filters
        dated = selectors.CatalogueFilters(
            topic=topic, provider=provider, mode=mode, free=free, date_from=now.date()
        )
        assert {c.pk for c in selectors.courses_for_catalogue(dated, now=now)} == wanted
        assert selectors.courses_for_catalogue_count(filters, now=now) == len(wanted)
