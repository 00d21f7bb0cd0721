"""Each course keeps the start of its first scheduled session still to come
(`Course.next_session_at`): the database's triggers keep it whenever a
session is written, by any means; `services.refresh_next_sessions` moves it on
once that session has started; and the catalogue read through it lists
exactly what joining the sessions lists, in the same order, with the same
dates and places."""

import datetime as dt
import itertools
import threading
import time

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings.models import Booking
from courses import selectors, services
from courses.models import Course, CourseSearch, Session, Topic, lock_course
from tests.accounts.factories import UserFactory
from tests.courses.factories import CourseFactory, SessionFactory, TopicFactory

pytestmark = pytest.mark.django_db


def kept(course: Course) -> dt.datetime | None:
    """The course's kept next session; fails unless its search row (if
    published) keeps the starts of its scheduled sessions from that one on,
    in order (migration 0017), and the course still keeps the last of them
    for the previous release (0015, 0019): none if there is no next one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT next_session_at, last_session_at FROM courses_course WHERE id = %s",
            [course.pk],
        )
        next_at, last_at = cursor.fetchone()
        cursor.execute(
            "SELECT session_starts FROM courses_coursesearch WHERE course_id = %s",
            [course.pk],
        )
        row = cursor.fetchone()
    coming = Session.objects.none()
    if next_at is None:
        assert last_at is None
    else:
        coming = Session.objects.filter(
            course=course, status=Session.Status.SCHEDULED, starts_at__gte=next_at
        )
        assert last_at == coming.aggregate(latest=Max("starts_at"))["latest"]
    if row is not None:
        assert (row[0] or []) == sorted(coming.values_list("starts_at", flat=True))
    return next_at


def in_days(days: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


def test_every_kind_of_write_to_sessions_keeps_the_courses_next_session():
    course = CourseFactory.create()
    assert kept(course) is None
    SessionFactory.create(course=course, starts_at=in_days(-3))  # over already
    assert kept(course) is None
    later = SessionFactory.create(course=course, starts_at=in_days(10))
    assert kept(course) == later.starts_at
    sooner = SessionFactory.create(course=course, starts_at=in_days(5))
    assert kept(course) == sooner.starts_at

    # Cancelled (status), moved (starts_at), by the ORM or by raw SQL.
    sooner.status = Session.Status.CANCELLED
    sooner.save()
    assert kept(course) == later.starts_at
    Session.objects.filter(pk=later.pk).update(
        starts_at=in_days(2), ends_at=in_days(2.1)
    )
    assert kept(course) == Session.objects.get(pk=later.pk).starts_at
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE courses_session SET status = 'scheduled' WHERE id = %s",
            [sooner.pk],
        )
    assert kept(course) == Session.objects.get(pk=later.pk).starts_at  # 2 < 5 days

    # Moved to another course: both courses follow.
    other = CourseFactory.create()
    Session.objects.filter(pk=later.pk).update(course=other)
    assert kept(other) == Session.objects.get(pk=later.pk).starts_at
    assert kept(course) == sooner.starts_at

    # Deleted, and added in bulk.
    Session.objects.filter(course=course).delete()
    assert kept(course) is None
    Session.objects.bulk_create(
        Session(
            course=course, starts_at=in_days(d), ends_at=in_days(d + 0.1), capacity=5
        )
        for d in (9, 8, 30)
    )
    assert (
        kept(course)
        == Session.objects.filter(course=course).earliest("starts_at").starts_at
    )


def test_saving_a_course_never_writes_back_an_old_next_session():
    course = CourseFactory.create()
    loaded = Course.objects.get(pk=course.pk)  # before any session
    session = SessionFactory.create(course=course, starts_at=in_days(4))
    loaded.title = "Renamed"
    loaded.save()
    assert kept(course) == session.starts_at
    loaded.save(update_fields=["title", "next_session_at"])
    assert kept(course) == session.starts_at
    assert Course.objects.get(pk=course.pk).title == "Renamed"

    copy = services.duplicate_course(Course.objects.get(pk=course.pk))
    assert kept(copy) is None  # the copy has no sessions


def test_a_course_saved_from_a_partial_or_rebuilt_copy_keeps_the_rest():
    course = CourseFactory.create(description="Old")
    session = SessionFactory.create(course=course, starts_at=in_days(6))
    partial = Course.objects.defer("description").get(pk=course.pk)
    Course.objects.filter(pk=course.pk).update(description="New")
    partial.title = "Renamed"
    partial.save()  # only what it loaded, as Django does
    saved = Course.objects.get(pk=course.pk)
    assert (saved.title, saved.description) == ("Renamed", "New")

    # A new instance given the id of an existing course updates it.
    rebuilt = Course(
        **{f.attname: getattr(saved, f.attname) for f in Course._meta.concrete_fields}
    )
    rebuilt.next_session_at = None
    rebuilt.summary = "Rebuilt"
    rebuilt.save()
    assert kept(course) == session.starts_at
    assert Course.objects.get(pk=course.pk).summary == "Rebuilt"


def test_refresh_moves_on_the_courses_whose_next_session_has_started():
    course = CourseFactory.create(title="Twice")
    first = SessionFactory.create(course=course, starts_at=in_days(1))
    second = SessionFactory.create(course=course, starts_at=in_days(3))
    only = SessionFactory.create(course__title="Once", starts_at=in_days(2))
    assert kept(course) == first.starts_at

    # Nothing has started yet: nothing moves and the cache is left alone.
    version = services.catalogue_version()
    assert services.refresh_next_sessions(now=timezone.now()) == first.starts_at
    assert services.catalogue_version() == version

    # A day and a half on, the first has started: the course moves on, the
    # other keeps its own, and the cached catalogue is marked changed.
    later = in_days(1.5)
    assert services.refresh_next_sessions(now=later) == only.starts_at
    assert kept(course) == second.starts_at
    assert kept(only.course) == only.starts_at
    assert services.catalogue_version() != version
    titles = [
        c.title
        for c in selectors.courses_for_catalogue(
            selectors.CatalogueFilters(), now=later
        )
    ]
    assert titles == ["Once", "Twice"]

    # When the last has started, there is none.
    assert services.refresh_next_sessions(now=in_days(4)) is None
    assert kept(course) is None
    assert kept(only.course) is None


def test_the_catalogue_keeps_a_course_whose_first_session_has_started(
    client, monkeypatch
):
    course = CourseFactory.create(title="Weekly coaching")
    first = SessionFactory.create(course=course, starts_at=in_days(1))
    second = SessionFactory.create(course=course, starts_at=in_days(8))
    assert "Weekly coaching" in client.get("/courses/").content.decode()

    # (The cached page expires when the first starts: test_catalogue_cache.)
    cache.clear()
    moment = first.starts_at + dt.timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    html = client.get("/courses/").content.decode()
    assert "Weekly coaching" in html
    assert f"{second.starts_at:%-d %b %Y}" in html
    assert f"{first.starts_at:%-d %b %Y} at" not in html


# ------------------------------------------- the same catalogue both ways


def world():
    """Courses with several sessions each (two at the same moment, some over,
    cancelled, full, or in another status), topics, modes and prices."""
    topics = TopicFactory.create_batch(2)
    people = UserFactory.create_batch(3)
    moments = [in_days(d) for d in (-2, 1, 2, 2, 5, 9)]
    for n in range(14):
        course = CourseFactory.create(
            title=f"{['Safeguarding', 'Phonics', 'Coaching'][n % 3]} {n}",
            mode=[Course.Mode.IN_PERSON, Course.Mode.LIVE_ONLINE][n % 2],
            price=[0, 40][n % 3 == 0],
            topics=[topics[n % 2]],
            status=Course.Status.DRAFT if n == 13 else Course.Status.PUBLISHED,
        )
        for k, moment in enumerate(moments[n % 3 : n % 3 + 1 + n % 4]):
            session = SessionFactory.create(
                course=course,
                starts_at=moment,
                capacity=1 + (n + k) % 3,
                status=Session.Status.CANCELLED if n == 5 and k == 0 else "scheduled",
            )
            for person in people[: (n + k) % 4]:
                Booking.objects.create(
                    person=person, session=session, status=Booking.Status.CONFIRMED
                )
    services.reindex_courses()
    return topics


FILTERS = [
    {},
    {"q": "safeguarding"},
    {"q": "coach", "sort": "soonest"},
    {"sort": "title"},
    {"available": True},
    {"available": True, "q": "phonics", "sort": "title"},
    {"free": True, "mode": Course.Mode.LIVE_ONLINE},
    {"topic": 0},
    {"topic": 1, "available": True, "sort": "relevance"},
]


@pytest.mark.parametrize(
    "given", FILTERS, ids=lambda f: "&".join(map(str, f)) or "none"
)
def test_the_kept_next_session_lists_what_joining_the_sessions_lists(given):
    topics = world()
    cache.clear()
    if "topic" in given:
        given = {**given, "topic": topics[given["topic"]]}
    now = timezone.now()
    kept_way = selectors.CatalogueFilters(**given)
    # From today: the same sessions, but read by joining them.
    joined_way = selectors.CatalogueFilters(**given, date_from=now.date())
    assert selectors._kept_next_session(kept_way)
    assert not selectors._kept_next_session(joined_way)

    def rows(filters):
        return [
            (c.title, c.next_starts_at, c.next_places_left)
            for c in selectors.with_next_places_left(
                selectors.courses_for_catalogue(filters, now=now)
            )
        ]

    expected = rows(joined_way)
    assert expected, "the world has matches for every filter"
    assert rows(kept_way) == expected
    assert selectors.courses_for_catalogue_count(
        kept_way, now=now
    ) == selectors.courses_for_catalogue_count(joined_way, now=now)


SEARCHES = [
    {"q": "safeguarding"},
    {"q": "coach", "sort": "soonest"},
    {"q": "phonics", "available": True},
    {"q": "phonics", "available": True, "sort": "soonest"},
    {"q": "phonics", "available": True, "sort": "title"},
    {"mode": Course.Mode.IN_PERSON, "sort": "title"},
    {"mode": Course.Mode.IN_PERSON, "available": True, "sort": "title"},
    {"q": "coach", "sort": "title"},
    {"topic": 1, "sort": "title"},
    {"provider": "of Phonics 7", "sort": "soonest"},
    {"free": True, "mode": Course.Mode.LIVE_ONLINE},
    {"topic": 0, "available": True},
    {"topic": 1, "available": True, "sort": "relevance"},
]
RANGES = {"none": (None, None), "from": (2, None), "to": (None, 2), "both": (2, 5)}


@pytest.mark.parametrize("dates", RANGES)
@pytest.mark.parametrize(
    "given", SEARCHES, ids=lambda f: "&".join(f"{k}={v}" for k, v in f.items())
)
def test_the_narrow_table_lists_what_the_course_table_lists(given, dates, monkeypatch):
    """A search or facet filter read from CourseSearch (`_matches_in_order`:
    each match's first session in range found in its row, or kept; "places left"
    asked after sorting) lists the same courses in the same order, with the
    same dates and places, and counts them alike, as the course table joined
    to its sessions. By title within dates or with "places left", or by
    date within dates, a listing narrowed only by mode or price is read from
    the course table itself (walking an index in order costs less), and by
    title a search without dates or "places left" too
    (`_reads_course_search`)."""
    topics = world()
    now = timezone.now()
    if "topic" in given:
        given = {**given, "topic": topics[given["topic"]]}
    if "provider" in given:
        given = {**given, "provider": Course.objects.get(title="Phonics 7").provider}
    start, end = RANGES[dates]
    filters = selectors.CatalogueFilters(
        **given,
        date_from=start and (now + dt.timedelta(days=start)).date(),
        date_to=end and (now + dt.timedelta(days=end)).date(),
    )

    def listed():
        listing = selectors.courses_for_catalogue(filters, now=now)
        if isinstance(listing, selectors.CoursesByIds):
            # Read a slice at a time too, as pages beyond the first ones are.
            everything = listing.matches[:]
            assert listing.matches[1:3] == everything[1:3]
            assert listing.matches[2:] == everything[2:]
        rows = [
            (c.title, c.next_starts_at, c.next_places_left)
            for c in selectors.with_next_places_left(listing)
        ]
        return (
            type(listing),
            rows,
            selectors.catalogue_count(listing, filters, now=now)(),
        )

    narrow_kind, narrow, narrow_count = listed()
    monkeypatch.setattr(selectors, "_reads_course_search", lambda *a, **k: False)
    wide_kind, wide, wide_count = listed()
    ranked = "q" in given and given.get("sort", "relevance") == "relevance"
    selective = {"q", "topic", "provider"} & set(given)
    by_title = given.get("sort") == "title"
    if by_title and dates == "none" and not given.get("available"):
        walked = False  # CourseSearch's titles: walked, or a search's sorted
    else:
        walked = not ranked and (by_title or dates != "none") and not selective
    assert narrow_kind is (wide_kind if walked else selectors.CoursesByIds)
    assert wide_kind is not selectors.CoursesByIds
    assert narrow == wide
    assert narrow_count == wide_count == len(wide)
    if dates in ("none", "from"):
        assert wide, "the world has matches for these"


def test_a_course_not_yet_moved_on_is_still_found_within_dates():
    """`refresh_next_sessions` skips a course being written, so its kept next
    session may have started; a search within dates still finds its later
    sessions (in the starts its search row keeps, not the kept next one),
    and skips those kept there that have started since."""
    course = CourseFactory.create(title="Phonics refresher")
    SessionFactory.create(course=course, starts_at=in_days(-1 / 24))  # started
    later = SessionFactory.create(course=course, starts_at=in_days(3))
    services.reindex_courses()
    with connection.cursor() as cursor:  # as if not moved on yet
        cursor.execute(
            "UPDATE courses_course SET next_session_at = %s WHERE id = %s",
            [in_days(-1 / 24), course.pk],
        )
    now = timezone.now()
    for given in (
        {"q": "phonics"},
        {"q": "phonics", "sort": "title", "available": True},
    ):
        filters = selectors.CatalogueFilters(**given, date_from=now.date())
        listing = selectors.courses_for_catalogue(filters, now=now)
        assert isinstance(listing, selectors.CoursesByIds)
        assert [(c.pk, c.next_starts_at) for c in listing] == [
            (course.pk, later.starts_at)
        ]
    # Asked a day and a half on, before any refresh: the kept next session
    # and the first start kept in the row (a day on) have started by then.
    other = CourseFactory.create(title="Spelling tests")
    soon, later = in_days(1), in_days(3)
    for moment in (soon, later):
        SessionFactory.create(course=other, starts_at=moment)
    services.reindex_courses()
    assert kept(other) == soon
    assert CourseSearch.objects.get(pk=other.pk).session_starts == [soon, later]
    then = in_days(1.5)
    # From today: both kept starts are on or after the first date.
    filters = selectors.CatalogueFilters(q="spelling", date_from=timezone.localdate())
    listing = selectors.courses_for_catalogue(filters, now=then)
    assert [c.next_starts_at for c in listing] == [later]
    assert selectors.courses_for_catalogue_count(filters, now=then) == 1


def test_the_first_of_two_sessions_at_the_same_moment_gives_the_places():
    course = CourseFactory.create()
    moment = in_days(3)
    first, second = (
        SessionFactory.create(course=course, starts_at=moment, capacity=c)
        for c in (4, 9)
    )
    assert first.pk < second.pk
    (row,) = selectors.with_next_places_left(
        selectors.courses_for_catalogue(selectors.CatalogueFilters())
    )
    assert (row.next_starts_at, row.next_places_left) == (moment, 4)


def test_courses_in_every_state_are_counted_alike_both_ways():
    world()
    now = timezone.now()
    for available, free in itertools.product([False, True], repeat=2):
        filters = selectors.CatalogueFilters(available=available, free=free)
        joined = selectors.CatalogueFilters(
            available=available, free=free, date_from=now.date()
        )
        assert selectors.courses_for_catalogue_count(
            filters, now=now
        ) == selectors.courses_for_catalogue_count(joined, now=now)


def plan(sql: str, params=(), *, sort: bool = True) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        # A test database is too small for an index to pay: ask for the
        # plan PostgreSQL would choose when it does.
        cursor.execute("SET LOCAL enable_seqscan = off")
        if not sort:
            # Sort only when no index gives the order.
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def page_queries(listing, start: int, end: int) -> list[str]:
    """The SQL that reads rows `start` to `end` of a catalogue listing: its
    own query, or for a search or filter without dates (CoursesByIds) the
    page's ids, then its courses by id; then the courses' topics."""
    with CaptureQueriesContext(connection) as captured:
        list(listing[start:end])
    return [q["sql"] for q in captured.captured_queries]


def test_a_page_by_date_and_a_filtered_count_read_no_session():
    world()
    now = timezone.now()
    filters = selectors.CatalogueFilters(mode=Course.Mode.IN_PERSON, free=True)
    sqls = page_queries(selectors.courses_for_catalogue(filters, now=now), 0, 20)
    assert len(sqls) == 3, sqls  # the page has rows: ids, courses, topics
    for sql in sqls:
        page = plan(sql)
        assert "courses_session" not in page, page  # no session joined or looked up
    with CaptureQueriesContext(connection) as captured:
        selectors.courses_for_catalogue_count(filters, now=now)
    (counted,) = captured.captured_queries
    counting = plan(counted["sql"])
    assert "courses_session" not in counting, counting


def test_places_left_is_asked_after_sorting_only_as_far_as_needed():
    """A listing sorted in full asks "places left" of its matches in order,
    after sorting (kept whole by OFFSET 0), not of every match before: in
    the plan, no session or booking is read under the sort."""
    world()
    now = timezone.now()
    filters = selectors.CatalogueFilters(q="phonics", available=True)  # ranked
    listing = selectors.courses_for_catalogue(filters, now=now)
    with CaptureQueriesContext(connection) as captured:
        listing.count()
    (first,) = captured.captured_queries
    lines = plan(first["sql"]).splitlines()
    (at,) = [n for n, line in enumerate(lines) if "->  Sort" in line]
    depth = len(lines[at]) - len(lines[at].lstrip())
    under = []
    for line in lines[at + 1 :]:
        if line.strip() and len(line) - len(line.lstrip()) <= depth:
            break
        under.append(line)
    assert not [x for x in under if "courses_session" in x or "bookings" in x], lines
    assert any("courses_session" in line for line in lines)  # asked, above it


@pytest.mark.parametrize("days", [0, 2])
def test_within_dates_sessions_are_not_read_to_order_or_count_matches(days):
    """Within dates, each match's first session in range is worked out in its
    search row (`session_starts`, migration 0017), and so is whether it has
    one: the listing's matches in order and its count read no session. The
    dates are two days, so that at two days on some matches' kept next
    session is before the first date (their first in range found in the
    row) and some in range (kept)."""
    world()
    now = timezone.now()
    date_from = timezone.localdate(now + dt.timedelta(days=days))
    filters = selectors.CatalogueFilters(
        topic=Topic.objects.first(),
        date_from=date_from,
        date_to=date_from + dt.timedelta(days=1),
    )
    if days:
        start, end = selectors._date_range(filters)
        matches = CourseSearch.objects.filter(
            course__topics=filters.topic, next_session_at__gt=now
        )
        assert matches.filter(next_session_at__lt=start).exists()
        assert matches.filter(
            next_session_at__gte=start, next_session_at__lt=end
        ).exists()
    listing = selectors.courses_for_catalogue(filters, now=now)
    assert isinstance(listing, selectors.CoursesByIds)
    for count in (
        listing.count,
        lambda: selectors.courses_for_catalogue_count(filters, now=now),
    ):
        with CaptureQueriesContext(connection) as captured:
            assert count() > 0
        (query,) = captured.captured_queries
        lines = plan(query["sql"]).splitlines()
        assert not [line for line in lines if "courses_session" in line], lines


def test_courses_starting_at_the_same_moment_are_listed_in_the_order_added():
    moment = in_days(4)
    added = [CourseFactory.create(title=t) for t in ("Zebra crossings", "Apples")]
    for course in added:
        SessionFactory.create(course=course, starts_at=moment)
    SessionFactory.create(course=added[1], starts_at=in_days(2), status="cancelled")
    now = timezone.now()
    for filters in (
        selectors.CatalogueFilters(),
        selectors.CatalogueFilters(date_from=now.date()),
        selectors.CatalogueFilters(sort="soonest", date_to=moment.date()),
    ):
        listed = selectors.courses_for_catalogue(filters, now=now)
        assert [c.title for c in listed] == ["Zebra crossings", "Apples"], filters


@pytest.mark.parametrize("dates", [False, True], ids=["kept", "dates"])
def test_a_page_by_date_walks_an_index_in_its_order(dates):
    """An index gives the page's order, so PostgreSQL can read the rows in it
    and stop after them, however many courses start at the same moment (a
    sort would read every course of the moment the page ends in). How big
    a test database is decides whether it would, so the plan is asked for
    with sorting discouraged: a sort still shows if nothing else gives the
    order. (Within dates, when only the mode or the price narrows the
    listing: otherwise each match's first session in range is found in its
    search row and the matches sorted, `_reads_course_search`.)"""
    world()
    now = timezone.now()
    if dates:
        filters = selectors.CatalogueFilters(
            mode=Course.Mode.IN_PERSON, date_from=now.date()
        )
    else:
        filters = selectors.CatalogueFilters(topic=Topic.objects.first())
    # The first query gives the order: the page's ids for a search or
    # filter without dates.
    first, *_rest = page_queries(
        selectors.courses_for_catalogue(filters, now=now), 20, 40
    )
    page = plan(first, sort=False)
    assert "Sort" not in page, page


@pytest.mark.parametrize(
    ("given", "sort"),
    [
        ({"q": "phonics"}, "soonest"),
        ({"free": True}, "soonest"),
        ({"free": True}, "title"),
    ],
    ids=["words-soonest", "facets-soonest", "facets-title"],
)
def test_a_page_without_dates_walks_course_search_in_its_order(given, sort):
    """Without dates, a page of a search by date, or of a facet filter by
    date or by title, walks `CourseSearch`'s index in its order and stops
    after the page (no sort). The index holds the facets (migration 0014),
    so a facet filter reads nothing else: each course passed is checked
    there, not in a table row (a topic's sixteenth page at 50,000 courses
    read 98 pages instead of 10,636). Not the words: a btree entry could not
    hold a long description's vector. (A search by title sorts its matches
    in `CourseSearch`, `_reads_course_search`.)"""
    world()
    services.reindex_courses()
    filters = selectors.CatalogueFilters(**given, sort=sort)
    listing = selectors.courses_for_catalogue(filters, now=timezone.now())
    first, *_rest = page_queries(listing, 0, 20)
    index = {"soonest": "coursesearch_next", "title": "coursesearch_title"}[sort]
    page = plan(first, sort=False)
    scan = "Index Only Scan" if "free" in given else "Index Scan"
    assert f"{scan} using {index} on courses_coursesearch" in page, page
    assert "Sort" not in page, page


# ------------------------------------------------ writers at the same moment


def in_thread(call, *events):
    """Run `call` in a thread with its own connection; returns the thread."""

    def run():
        try:
            call(*events)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def second_waits_for_first(first, second) -> list[str]:
    """Run `first(holding, release)` in a transaction of its own until it
    sets `holding`, then `second()` alongside: the second must wait (still
    running half a second later), not fail; then let the first finish.
    Returns what either raised ("deadlock detected", when the two took
    their locks in opposite orders)."""
    holding, release = threading.Event(), threading.Event()
    failures = []

    def catching(call, name):
        def run(*events):
            try:
                call(*events)
            except Exception as exc:
                failures.append(f"{name}: {exc}")

        return run

    first_thread = in_thread(catching(first, "first"), holding, release)
    assert holding.wait(10)
    second_thread = in_thread(catching(second, "second"))
    second_thread.join(0.5)
    assert second_thread.is_alive(), "the second writer waits for the first"
    release.set()
    first_thread.join(15)
    second_thread.join(15)
    return failures


@pytest.mark.django_db(transaction=True)
def test_a_session_added_while_another_is_cancelled_is_not_missed():
    course = CourseFactory.create()
    only = SessionFactory.create(course=course, starts_at=in_days(3))
    added, release = threading.Event(), threading.Event()
    later = in_days(5)

    def add_a_session(added, release):
        with transaction.atomic():
            SessionFactory.create(course=course, starts_at=later)
            added.set()
            release.wait(10)

    def cancel_the_other():
        with transaction.atomic():
            Session.objects.filter(pk=only.pk).update(status=Session.Status.CANCELLED)

    adder = in_thread(add_a_session, added, release)
    assert added.wait(10)
    # The cancellation waits for the course's row, then sees the new session.
    canceller = in_thread(cancel_the_other)
    canceller.join(0.5)
    assert canceller.is_alive(), "the second writer waits for the first"
    release.set()
    adder.join(10)
    canceller.join(10)
    assert kept(course) == later


@pytest.mark.django_db(transaction=True)
def test_refresh_never_waits_for_a_course_being_written_and_keeps_no_page():
    course = CourseFactory.create()
    first = SessionFactory.create(course=course, starts_at=in_days(1))
    second = SessionFactory.create(course=course, starts_at=in_days(3))
    other = SessionFactory.create(starts_at=in_days(0.5))
    later = in_days(2)
    writing, release = threading.Event(), threading.Event()

    def write_the_course(writing, release):
        with transaction.atomic():
            Session.objects.filter(pk=second.pk).update(capacity=30)  # no lock
            SessionFactory.create(course=course, starts_at=in_days(4))  # locks it
            writing.set()
            release.wait(10)

    writer = in_thread(write_the_course, writing, release)
    try:
        assert writing.wait(10)
        started = time.monotonic()
        # `other`'s course moves on; `course` is held, so it is skipped and
        # the page built now must not be kept (it would lack the course).
        assert services.refresh_next_sessions(now=later) == later
        assert time.monotonic() - started < 2
        assert kept(other.course) is None
        assert kept(course) == first.starts_at
    finally:
        release.set()
        writer.join(10)
    # Once the writer is done, the next refresh moves it on.
    assert services.refresh_next_sessions(now=later) == second.starts_at
    assert kept(course) == second.starts_at


def test_the_refresh_is_planned_for_each_moment_it_is_given():
    """PL/pgSQL keeps a plan made for any moment from a function's sixth call
    on; for "next session started by this moment" that plan reads every
    course (25-35 ms at 50,000 courses against 0.3 ms)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proconfig FROM pg_proc WHERE proname = %s",
            ["courses_refresh_next_sessions"],
        )
        (config,) = cursor.fetchone()
    assert "plan_cache_mode=force_custom_plan" in config


def _cancel_by_save(session: Session) -> None:
    session.status = Session.Status.CANCELLED
    session.save(update_fields=["status"])


def _cancel_by_update(session: Session) -> None:
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)


def _cancel_by_service(session: Session) -> None:
    from bookings.services import cancel_session

    cancel_session(session, UserFactory.create(is_staff=True), reason="Trainer ill")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "cancel", [_cancel_by_save, _cancel_by_update, _cancel_by_service]
)
def test_two_staff_writing_sessions_of_one_course_cannot_deadlock(cancel):
    """One staff member saves two of a course's sessions (the course page's
    sessions, say) while another cancels the second. The trigger locks the
    course after each session row, so without every writer taking the course
    first each would hold a session the other waits for, and PostgreSQL would
    end one with "deadlock detected"."""
    course = CourseFactory.create()
    first = SessionFactory.create(course=course, starts_at=in_days(3))
    second = SessionFactory.create(course=course, starts_at=in_days(5))
    moved_first, moved_second = in_days(4), in_days(6)

    def save_both(holding, release):
        with transaction.atomic():
            first.starts_at = moved_first
            first.ends_at = moved_first + dt.timedelta(hours=2)
            first.save()
            holding.set()
            release.wait(10)
            second.starts_at = moved_second
            second.ends_at = moved_second + dt.timedelta(hours=2)
            second.save()

    failures = second_waits_for_first(
        save_both, lambda: cancel(Session.objects.get(pk=second.pk))
    )
    assert failures == []
    second.refresh_from_db()
    assert second.status == Session.Status.CANCELLED
    assert second.starts_at == moved_second
    assert kept(course) == moved_first


def _move_to_other_course(session: Session, other: Course) -> None:
    session.course = other
    session.save()


def _move_in_bulk(session: Session, other: Course) -> None:
    Session.objects.filter(pk=session.pk).update(course=other)


def _delete_in_bulk(session: Session, other: Course) -> None:
    Session.objects.filter(pk=session.pk).delete()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "write", [_move_to_other_course, _move_in_bulk, _delete_in_bulk]
)
def test_a_session_moved_or_deleted_while_its_course_is_saved_cannot_deadlock(write):
    """Staff save course A with its sessions (its row locked first) while
    another moves one of them to course B, or deletes it in bulk. Both change
    course A's next session, so both must wait for A before they hold the
    session row, as the course page's save is about to write it."""
    course, other = CourseFactory.create(), CourseFactory.create()
    moved = SessionFactory.create(course=course, starts_at=in_days(3))
    later = SessionFactory.create(course=course, starts_at=in_days(5))

    def save_the_course_page(holding, release):
        with transaction.atomic():
            page_copy = Session.objects.get(pk=moved.pk)
            lock_course(course.pk)  # as saving the course's own row does
            holding.set()
            release.wait(10)
            page_copy.capacity = 30
            page_copy.save(update_fields=["capacity"])

    failures = second_waits_for_first(
        save_the_course_page, lambda: write(Session.objects.get(pk=moved.pk), other)
    )
    assert failures == []
    assert kept(course) == later.starts_at
    if write is not _delete_in_bulk:
        assert kept(other) == moved.starts_at
    else:
        assert not Session.objects.filter(pk=moved.pk).exists()
