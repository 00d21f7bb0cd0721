"""CourseSearch: the narrow copy of what a catalogue search reads of each
published course, kept by a PostgreSQL trigger on courses_course whoever
writes, and the listing read through it (CoursesByIds)."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from bookings.models import Booking
from courses import selectors, services
from courses.models import Course, CourseSearch, Session
from tests.accounts.factories import UserFactory
from tests.courses.factories import (
    CourseFactory,
    ProviderFactory,
    SessionFactory,
    TopicFactory,
)
from tests.courses.test_next_session import kept

pytestmark = pytest.mark.django_db


def agrees() -> int:
    """Fails unless CourseSearch holds exactly the published courses, each
    with its course's next and last sessions, vector, facets and title, and
    the starts of its sessions to come; returns how many."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, next_session_at, last_session_at, search_vector::text,"
            " facets::text, title"
            " FROM courses_course WHERE status = 'published' ORDER BY id"
        )
        wanted = cursor.fetchall()
        cursor.execute(
            "SELECT course_id, next_session_at, last_session_at,"
            " search_vector::text, facets::text, title"
            " FROM courses_coursesearch ORDER BY course_id"
        )
        kept = cursor.fetchall()
        # And the starts of each one's scheduled sessions from its next one
        # on (migration 0017).
        cursor.execute(
            "SELECT r.course_id FROM courses_coursesearch r"
            " WHERE r.session_starts IS DISTINCT FROM ("
            "  SELECT array_agg(s.starts_at ORDER BY s.starts_at)"
            "  FROM courses_session s WHERE s.course_id = r.course_id"
            "  AND s.status = 'scheduled' AND s.starts_at >= r.next_session_at)"
        )
        stale = cursor.fetchall()
    assert kept == wanted
    assert stale == []
    return len(kept)


def test_every_writer_of_a_course_its_sessions_and_topics_keeps_it():
    soon = timezone.now() + dt.timedelta(days=3)
    topic = TopicFactory.create()
    course = CourseFactory.create(title="Phonics for beginners", topics=[topic])
    draft = CourseFactory.create(status=Course.Status.DRAFT)
    assert agrees() == 1
    assert not CourseSearch.objects.filter(pk=draft.pk).exists()

    session = SessionFactory.create(course=course, starts_at=soon)
    assert CourseSearch.objects.get(pk=course.pk).next_session_at == soon
    Session.objects.filter(pk=session.pk).update(
        starts_at=soon - dt.timedelta(days=1), ends_at=soon
    )
    assert agrees() == 1
    session.refresh_from_db()
    session.status = Session.Status.CANCELLED
    session.save()
    assert CourseSearch.objects.get(pk=course.pk).next_session_at is None
    assert agrees() == 1

    services.reindex_courses([course.pk])
    assert "phonic" in CourseSearch.objects.get(pk=course.pk).search_vector
    assert agrees() == 1
    course.topics.add(TopicFactory.create())  # the facets, by the topics' trigger
    course.topics.remove(topic)
    assert agrees() == 1
    # The facets' own trigger rewrites them on a change of mode or price.
    Course.objects.filter(pk=course.pk).update(
        mode=Course.Mode.E_LEARNING, price=Decimal("0")
    )
    assert "free" in CourseSearch.objects.get(pk=course.pk).facets
    assert agrees() == 1
    # A title changed alone: the vector follows only when reindexed.
    Course.objects.filter(pk=course.pk).update(title="Early reading")
    assert CourseSearch.objects.get(pk=course.pk).title == "Early reading"
    assert agrees() == 1

    draft.status = Course.Status.PUBLISHED
    draft.save()
    assert agrees() == 2
    Course.objects.filter(pk=course.pk).update(status=Course.Status.DRAFT)
    assert agrees() == 1
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE courses_course SET status = 'published' WHERE id = %s", [course.pk]
        )
    assert agrees() == 2

    made = Course.objects.bulk_create(
        [CourseFactory.build(provider=ProviderFactory.create())]
    )
    assert agrees() == 3
    made[0].delete()
    assert agrees() == 2
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM courses_course WHERE id = %s", [draft.pk])
    assert agrees() == 1
    lone = CourseFactory.create()  # no sessions refer to it
    assert agrees() == 2
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE courses_course SET id = id + 1000 WHERE id = %s", [lone.pk]
        )
    assert agrees() == 2
    assert CourseSearch.objects.filter(pk=lone.pk + 1000).exists()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # nothing pending
        cursor.execute("TRUNCATE courses_course CASCADE")
    assert agrees() == 0
    assert not CourseSearch.objects.exists()


def test_both_tables_truncated_in_one_statement_as_a_flush_does():
    SessionFactory.create()
    assert agrees() == 1
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "TRUNCATE courses_coursesearch, courses_course, courses_session CASCADE"
        )
    assert agrees() == 0


def test_a_course_moved_on_to_its_next_session_is_moved_on_here_too():
    now = timezone.now()
    course = CourseFactory.create()
    first = SessionFactory.create(course=course, starts_at=now + dt.timedelta(hours=1))
    second = SessionFactory.create(course=course, starts_at=now + dt.timedelta(days=2))
    assert CourseSearch.objects.get(pk=course.pk).next_session_at == first.starts_at
    services.refresh_next_sessions(now=now + dt.timedelta(hours=2))
    assert CourseSearch.objects.get(pk=course.pk).next_session_at == second.starts_at
    assert agrees() == 1


def test_a_page_leaves_out_a_course_unpublished_after_its_ids_were_read(
    django_assert_num_queries,
):
    when = timezone.now() + dt.timedelta(days=2)
    courses = [
        SessionFactory.create(course__title=f"Maths {n}", starts_at=when).course
        for n in range(3)
    ]
    services.reindex_courses()
    listing = selectors.courses_for_catalogue(
        selectors.CatalogueFilters(q="maths", sort="soonest")
    )
    assert isinstance(listing, selectors.CoursesByIds)
    found = listing.matches[:]
    # At the same moment: in the order added.
    assert found == [(c.pk, when) for c in courses]
    listing.matches = found  # as read just before the change
    Course.objects.filter(pk=courses[1].pk).update(status=Course.Status.DRAFT)
    with django_assert_num_queries(0):
        assert listing[5:10] == []
    page = listing[0:20]
    assert [c.pk for c in page] == [courses[0].pk, courses[2].pk]
    assert page[0].next_starts_at == when


def _four_maths_courses() -> list[Course]:
    """Four courses matching "maths", all starting in two days (so in the
    order added), indexed."""
    when = timezone.now() + dt.timedelta(days=2)
    made = [
        SessionFactory.create(course__title=f"Maths {n}", starts_at=when).course
        for n in range(4)
    ]
    services.reindex_courses()
    return made


def test_the_first_matches_give_the_count_and_the_pages_within_them(
    monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(selectors, "CATALOGUE_COUNT_CAP", 2)
    made = _four_maths_courses()
    filters = selectors.CatalogueFilters(q="maths")  # ranked
    listing = selectors.courses_for_catalogue(filters)
    assert listing.counted
    assert not selectors.courses_for_catalogue(
        selectors.CatalogueFilters(q="maths", sort="soonest")
    ).counted  # by date: a page and the count each stop early
    with django_assert_num_queries(1):
        assert listing.count() == 3  # more than the cap of 2: all it tells
        assert listing.count() == 3
    assert selectors.courses_for_catalogue_count(filters) == 3
    with django_assert_num_queries(2):  # the courses and their topics
        assert [c.pk for c in listing[1:3]] == [made[1].pk, made[2].pk]
    with django_assert_num_queries(3):  # beyond the first matches: by slice
        assert [c.pk for c in listing[3:5]] == [made[3].pk]


def test_a_count_and_the_page_it_was_told_of_are_read_in_one_query(
    monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(selectors, "CATALOGUE_COUNT_CAP", 4)
    made = _four_maths_courses()
    filters = selectors.CatalogueFilters(q="maths")  # ranked: counted
    listing = selectors.courses_for_catalogue(filters)
    count = selectors.catalogue_count(
        listing, filters, now=timezone.now(), window=(2, 4)
    )
    with django_assert_num_queries(1) as captured:
        assert count() == 4
        assert count() == 4  # kept
    assert "MATERIALIZED" in captured.captured_queries[0]["sql"]
    with django_assert_num_queries(2):  # the courses and their topics
        assert [c.pk for c in listing[2:4]] == [made[2].pk, made[3].pk]
    with django_assert_num_queries(2):  # a last page asks as far as the count
        assert [c.pk for c in listing[2:3]] == [made[2].pk]
    with django_assert_num_queries(3):  # another slice: its own query
        assert [c.pk for c in listing[0:2]] == [made[0].pk, made[1].pk]


@pytest.mark.parametrize(
    "filters",
    [
        selectors.CatalogueFilters(q="maths"),
        selectors.CatalogueFilters(q="maths", available=True),
        selectors.CatalogueFilters(q="maths", sort="title"),
        selectors.CatalogueFilters(q="maths", sort="title", available=True),
        selectors.CatalogueFilters(q="maths", sort="soonest", date_from="soon"),
        selectors.CatalogueFilters(
            q="maths", sort="soonest", date_from="soon", available=True
        ),
    ],
    ids=["ranked", "ranked-places", "title", "title-places", "dated", "dated-places"],
)
def test_the_count_and_slice_of_each_listing_sorted_in_full_are_its_first_matches(
    filters,
):
    now = timezone.now()
    if filters.date_from == "soon":
        filters = replace(filters, date_from=timezone.localdate() + dt.timedelta(1))
    for n in range(9):
        session = SessionFactory.create(
            course__title=f"Maths {'ABCDEFGHI'[-n - 1]}",
            course__summary="maths " * (n % 3),  # ranks apart
            starts_at=now + dt.timedelta(days=2 + n % 4, hours=n),
            capacity=1 if n % 4 else 5,
        )
        if n % 4:  # full, for "places left"
            Booking.objects.create(
                person=UserFactory.create(), session=session, status="confirmed"
            )
    services.reindex_courses()
    listing = selectors.courses_for_catalogue(filters, now=now)
    assert isinstance(listing, selectors.CoursesByIds)
    assert listing.matches.sorted_in_full
    matches = listing.matches[:]
    assert len(matches) >= 3  # the world has what the test is about
    for cap in (2, len(matches), len(matches) + 3):
        for start, stop in ((0, 2), (1, 3), (2, 5), (len(matches), len(matches) + 2)):
            n, found = listing.matches.count_and_slice(cap, start, stop)
            assert n == min(cap, len(matches))
            assert found == matches[:cap][start:stop], (cap, start, stop)


def test_a_slice_is_read_as_a_querysets_would_be():
    when = timezone.now() + dt.timedelta(days=2)
    for n in range(3):
        SessionFactory.create(course__title=f"Maths {n}", starts_at=when)
    services.reindex_courses()
    for filters in (
        selectors.CatalogueFilters(q="maths"),
        selectors.CatalogueFilters(q="maths", sort="soonest"),
    ):
        listing = selectors.courses_for_catalogue(filters)
        everything = [c.pk for c in listing]
        assert len(everything) == 3
        assert [c.pk for c in listing[1:]] == everything[1:]
        assert [c.pk for c in listing[:2]] == everything[:2]
        assert listing[2].pk == everything[2]
        assert listing[2:2] == listing[5:9] == []
        for bad in (slice(0, -1), slice(-2, None)):
            with pytest.raises(ValueError, match="Negative"):
                listing[bad]


def test_a_course_with_a_long_description_is_kept_and_found():
    """A description has no length limit, and its words go into the search
    vector: no index on `CourseSearch` may hold the vector in a btree entry
    (at most 2,704 bytes; 300 distinct words made 12,200), or saving such a
    course would fail."""
    words = " ".join(f"word{n}x{n * 7919 % 10007}" for n in range(3000))
    course = CourseFactory.create(title="Assessment", description=words)
    SessionFactory.create(course=course, starts_at=timezone.now() + dt.timedelta(2))
    services.reindex_courses()
    assert agrees() == 1
    for q in ("word2999x", "assessment"):
        filters = selectors.CatalogueFilters(q=q)
        for sort in ("relevance", "soonest", "title"):
            listing = selectors.courses_for_catalogue(replace(filters, sort=sort))
            assert [c.title for c in listing] == ["Assessment"], (q, sort)


@pytest.mark.parametrize("q", ["", "phonics"], ids=["facet", "words"])
def test_within_dates_a_session_at_either_edge_of_the_range_is_placed_exactly(q):
    """The first session in range is found in each row's starts (migration
    0017) by the moment just before the first day: a session at the first
    day's first microsecond is in range, one a microsecond earlier is not,
    and one at the start of the day after the last date is not."""
    topic = TopicFactory.create()
    day = timezone.localdate() + dt.timedelta(days=20)
    start = selectors._start_of_day(day)
    end = selectors._start_of_day(day + dt.timedelta(days=1))
    micro = dt.timedelta(microseconds=1)
    # Each course: its sessions' starts, and its first in range (or none).
    courses = {
        "Phonics at the first moment": ([start - micro, start], start),
        "Phonics a moment before": ([start - micro, end], None),
        "Phonics at the end": ([end], None),
        "Phonics at the last moment": ([start - 3 * micro, end - micro], end - micro),
    }
    for title, (starts, _first) in courses.items():
        course = CourseFactory.create(title=title, topics=[topic])
        for moment in starts:
            SessionFactory.create(course=course, starts_at=moment)
    services.reindex_courses()
    assert agrees() == 4
    filters = selectors.CatalogueFilters(
        q=q, topic=topic, date_from=day, date_to=day, sort="soonest"
    )
    listing = selectors.courses_for_catalogue(filters)
    assert isinstance(listing, selectors.CoursesByIds)
    wanted = sorted((first, title) for title, (_s, first) in courses.items() if first)
    assert [(c.next_starts_at, c.title) for c in listing] == wanted
    assert listing.count() == selectors.courses_for_catalogue_count(filters) == 2
    # From the first date on, with no last date.
    open_ended = replace(filters, date_to=None)
    assert [c.title for c in selectors.courses_for_catalogue(open_ended)] == [
        "Phonics at the first moment",
        "Phonics at the last moment",
        "Phonics a moment before",
        "Phonics at the end",
    ]
    assert selectors.courses_for_catalogue_count(open_ended) == 4


def test_a_bulk_load_without_triggers_is_put_right_by_the_readme_recipe():
    """A bulk load with the triggers off (session_replication_role = replica)
    leaves the kept values unset; the statements the README gives, run in
    its order afterwards, set them all: each course's next and last
    sessions, its facets, and its search row with its sessions' starts."""
    topic = TopicFactory.create()
    soon = timezone.now() + dt.timedelta(days=3)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        loaded = [
            CourseFactory.create(title=f"Phonics {n}", topics=[topic]) for n in range(3)
        ]
        for n, course in enumerate(loaded):
            for days in range(n + 1):
                SessionFactory.create(
                    course=course, starts_at=soon + dt.timedelta(days=days)
                )
        services.reindex_courses()
        # The triggers on again (SET LOCAL lasts until the test's own
        # transaction ends, not this block's savepoint).
        cursor.execute("SET LOCAL session_replication_role = origin")
    assert not CourseSearch.objects.filter(session_starts__isnull=False).exists()
    with connection.cursor() as cursor:
        # README, "bulk load": in this order.
        cursor.execute("UPDATE courses_course SET facets = NULL")
        cursor.execute("DELETE FROM courses_coursesearch")
        cursor.execute(
            "INSERT INTO courses_coursesearch (course_id, next_session_at,"
            " last_session_at, search_vector, facets, title) SELECT id,"
            " next_session_at, last_session_at, search_vector, facets, title FROM"
            " courses_course WHERE status = 'published'"
        )
        cursor.execute("SELECT courses_next_session_of(id, now()) FROM courses_course")
    assert agrees() == 3
    for n, course in enumerate(loaded):
        assert kept(course) == soon
        assert CourseSearch.objects.get(pk=course.pk).session_starts == [
            soon + dt.timedelta(days=d) for d in range(n + 1)
        ]
    filters = selectors.CatalogueFilters(
        topic=topic, date_from=(soon + dt.timedelta(days=1)).date()
    )
    assert [c.title for c in selectors.courses_for_catalogue(filters)] == [
        "Phonics 1",
        "Phonics 2",
    ]
