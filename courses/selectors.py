"""Reads of the catalogue that pages, admin and reports share.

Every selector returns a queryset whose per-row figures (next session, places
left) are computed in the SQL, so a page runs a fixed number of queries however
many rows it shows. Booking counts use the `bookings` reverse relation of
Session without importing the bookings app. Catalogue selectors take `now`, so
that the rows, their count and how long a cached page stays right
(`catalogue_unchanged_until`) agree on the moment they describe.
"""

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import Membership

from .models import Course, CourseSearch, Provider, Reservation, Session, Topic

# Booking statuses that hold a place (bookings.Booking.PLACE_HOLDING; a test keeps them equal).
PLACE_HOLDING = ("confirmed", "offered", "awaiting_approval", "attended", "no_show")
CONFIRMED = Count("bookings", filter=Q(bookings__status__in=PLACE_HOLDING))
WAITING = Count("bookings", filter=Q(bookings__status="waitlisted"))


@dataclass(frozen=True)
class CatalogueFilters:
    q: str = ""
    topic: Topic | None = None
    mode: str = ""
    provider: Provider | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    free: bool = False
    available: bool = False
    sort: str = ""  # "soonest", "title" or "relevance" (default with q)


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def reservations_unreleased(*, session_ids: list[int]) -> QuerySet[Reservation]:
    """The sessions' reservations not yet returned to general sale (some may
    have lapsed: `Reservation.is_active` tells), each annotated with `left`:
    how many of its places are still free, that is its places less those held
    by people it admits (a person it admits holding any place on the session
    uses one of them). A person admitted by two reservations counts in both.
    """
    booking_model = Session._meta.get_field("bookings").related_model
    admitted = Membership.objects.filter(
        Q(organisation=OuterRef(OuterRef("organisation")))
        | Q(organisation__kind=OuterRef(OuterRef("organisation_kind"))),
        status=Membership.Status.CONFIRMED,
        person=OuterRef("person"),
    )
    held = (
        booking_model.objects.filter(
            Exists(admitted), session=OuterRef("session"), status__in=PLACE_HOLDING
        )
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Reservation.objects.filter(session_id__in=session_ids, released_at__isnull=True)
        .annotate(
            left=Greatest(
                F("places") - Coalesce(Subquery(held, output_field=IntegerField()), 0),
                Value(0),
            )
        )
        .select_related("organisation")
        .order_by("until", "pk")
    )


def places_open_to(
    session: Session,
    *,
    held: int,
    reservations: list[Reservation],
    memberships: frozenset[tuple[int, str]],
    now: dt.datetime,
) -> int:
    """How many of the session's free places someone with these confirmed
    memberships may take now, given `held` places taken and the session's
    `reservations_unreleased`. The places still reserved by active
    reservations that do not admit them are not theirs to take; but a person
    whom an active reservation with places left admits may take any free
    place, even when staff reserved more places than were free. Positive
    exactly when the rule lets them book (bookings.services.book_session)."""
    free = max(0, session.capacity - held)
    active = [r for r in reservations if r.is_active(now)]
    barred = sum(r.left for r in active if not r.admits(memberships))
    own = max((r.left for r in active if r.admits(memberships)), default=0)
    return min(free, max(free - barred, own))


def sessions_with_places_for(
    sessions: QuerySet[Session], *, person, now: dt.datetime
) -> list[Session]:
    """`sessions` (annotated by `sessions_with_counts`) with `places_left`
    made what `person` (None: anyone) may take now, and `reserved`: the
    active reservations with places left, each with `shown` (how many of
    them to mention) and `admits_viewer`. One query for the reservations, and
    one for the person's memberships if there are any."""
    from accounts.selectors import memberships_of

    sessions = list(sessions)
    found: dict[int, list[Reservation]] = {}
    # Sessions annotated `has_reservation` (sessions_for_course) say whether
    # there is anything to look up: most have no reservation, and the query
    # (nested subqueries) costs more to build than to run.
    asked = [s.pk for s in sessions if getattr(s, "has_reservation", True)]
    for r in reservations_unreleased(session_ids=asked) if asked else ():
        if r.is_active(now):
            found.setdefault(r.session_id, []).append(r)
    memberships = (
        memberships_of(person) if found and person is not None else frozenset()
    )
    for s in sessions:
        reservations = found.get(s.pk, [])
        s.places_left = places_open_to(
            s,
            held=s.confirmed_count,
            reservations=reservations,
            memberships=memberships,
            now=now,
        )
        free = max(0, s.capacity - s.confirmed_count)
        s.reserved = [r for r in reservations if r.left]
        for r in s.reserved:
            r.admits_viewer = r.admits(memberships)
            r.shown = min(r.left, free)
    return sessions


def sessions_unchanged_until(
    sessions: list[Session], *, now: dt.datetime
) -> dt.datetime | None:
    """When time passing alone next changes what `sessions` (from
    `sessions_with_places_for`) show: one starts, booking for one closes, or
    a reservation of places on one ends. None if nothing of them will."""
    moments = [
        t
        for s in sessions
        for t in (s.starts_at, s.closes_at, *(r.until for r in s.reserved))
        if t > now
    ]
    return min(moments, default=None)


def sessions_with_counts() -> QuerySet[Session]:
    return Session.objects.annotate(
        confirmed_count=CONFIRMED,
        waiting_count=WAITING,
        places_left=Greatest(F("capacity") - CONFIRMED, Value(0)),
    )


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The Monday and the Sunday of the week that holds `day`."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def sessions_in_week(*, day: dt.date) -> QuerySet[Session]:
    """Sessions starting from Monday to Sunday (local time) of the week that
    holds `day`, cancelled ones included, with their booking counts."""
    monday, sunday = week_of(day)
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(sunday + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return (
        sessions_with_counts()
        .filter(starts_at__gte=start, starts_at__lt=end)
        .select_related("course")
        .order_by("starts_at", "pk")
    )


def sessions_upcoming() -> QuerySet[Session]:
    return Session.objects.filter(
        status=Session.Status.SCHEDULED, starts_at__gt=timezone.now()
    )


def sessions_bookable() -> QuerySet[Session]:
    return (
        sessions_upcoming()
        .filter(course__status=Course.Status.PUBLISHED)
        .select_related("course", "course__provider")
    )


def sessions_for_course(*, course: Course) -> QuerySet[Session]:
    return (
        sessions_with_counts()
        .annotate(
            has_reservation=Exists(
                Reservation.objects.filter(
                    session=OuterRef("pk"), released_at__isnull=True
                )
            )
        )
        .filter(
            course=course, status=Session.Status.SCHEDULED, starts_at__gt=timezone.now()
        )
        .select_related("course")
        .order_by("starts_at")
    )


def _places_held_subquery() -> Subquery:
    """Places held on the outer query's session, counted for that row alone
    (a correlated subquery), where `CONFIRMED` joins and groups every booking
    of every session the query looks at before a LIMIT can apply."""
    booking_model = Session._meta.get_field("bookings").related_model
    return Subquery(
        booking_model.objects.filter(session=OuterRef("pk"), status__in=PLACE_HOLDING)
        .order_by()
        .values("session")
        # session_id, not id: the count is read from the index alone.
        .annotate(n=Count("session"))
        .values("n"),
        output_field=IntegerField(),
    )


def _places_left() -> Greatest:
    """Places left on the outer query's session: its capacity less the places
    held (`_places_held_subquery`), never below nought."""
    return Greatest(F("capacity") - Coalesce(_places_held_subquery(), 0), Value(0))


def sessions_for_home(*, limit: int = 8) -> QuerySet[Session]:
    """The next `limit` bookable sessions, each with `places_left`. PostgreSQL
    walks `session_scheduled_start` in date order and stops after `limit`
    published ones; bookings are counted for those rows only, so the page
    costs the same with 20 sessions or 200,000."""
    return (
        Session.objects.filter(
            status=Session.Status.SCHEDULED,
            starts_at__gt=timezone.now(),
            course__status=Course.Status.PUBLISHED,
        )
        .annotate(places_left=_places_left())
        .select_related("course", "course__provider")
        .order_by("starts_at", "pk")[:limit]
    )


def search_terms(q: str) -> list[str]:
    return re.findall(r"\w+", q.lower())[:10]


def course_get_published(*, slug: str, preview: bool = False) -> Course:
    qs = Course.objects.select_related("provider").prefetch_related("topics")
    if not preview:
        qs = qs.filter(status=Course.Status.PUBLISHED)
    return qs.get(slug=slug)


def _in_range(filters: CatalogueFilters, now: dt.datetime, prefix: str = "") -> Q:
    """Scheduled sessions that have not started and fall within the dates."""
    q = Q(
        **{f"{prefix}status": Session.Status.SCHEDULED, f"{prefix}starts_at__gt": now}
    )
    start, end = _date_range(filters)
    if start:
        q &= Q(**{f"{prefix}starts_at__gte": start})
    if end:
        q &= Q(**{f"{prefix}starts_at__lt": end})
    return q


def _date_range(
    filters: CatalogueFilters,
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The filters' dates as moments: the start of the first day, and the
    start of the day after the last (a session in range starts before it)."""
    start = _start_of_day(filters.date_from) if filters.date_from else None
    end = (
        _start_of_day(filters.date_to + dt.timedelta(days=1))
        if filters.date_to
        else None
    )
    return start, end


def _search_query(filters: CatalogueFilters) -> SearchQuery | None:
    terms = search_terms(filters.q)
    if not terms or not settings.IS_POSTGRES:
        return None
    # Prefix matching on every word: "safeguard" finds "Safeguarding".
    return SearchQuery(
        " & ".join(f"{t}:*" for t in terms), search_type="raw", config="english"
    )


def _facet_lexemes(filters: CatalogueFilters) -> list[str]:
    """The lexemes of `Course.facets` a course must have to match the
    filters' topic, provider, mode and price (migration 0011 makes them)."""
    lexemes = []
    if filters.topic:
        lexemes.append(f"t{filters.topic.pk}")
    if filters.provider:
        lexemes.append(f"p{filters.provider.pk}")
    if filters.mode:
        lexemes.append("m" + filters.mode.replace("_", ""))
    if filters.free:
        lexemes.append("free")
    return lexemes


def _facets_query(filters: CatalogueFilters) -> SearchQuery | None:
    lexemes = _facet_lexemes(filters)
    if not lexemes:
        return None
    # Ids and the modes' own letters: nothing here a parser would split.
    return SearchQuery(" & ".join(lexemes), search_type="raw", config="simple")


def _sessions_with_places(
    filters: CatalogueFilters, now: dt.datetime, course
) -> QuerySet[Session]:
    """`course`'s sessions in range with a place left: per session, its
    places held counted from the index on (session, status) alone, no join
    and GROUP BY of the bookings."""
    return Session.objects.filter(_in_range(filters, now), course=course).filter(
        capacity__gt=Coalesce(_places_held_subquery(), 0)
    )


def _with_places_left(filters: CatalogueFilters, now: dt.datetime) -> Exists:
    """Whether the outer row's course (a course, or its `CourseSearch` row:
    the same pk) has a session in range with a place left."""
    return Exists(_sessions_with_places(filters, now, OuterRef("pk")))


def _matching_words_and_facets(qs, filters: CatalogueFilters, now: dt.datetime):
    """`qs` (courses, or their `CourseSearch` rows: the same pk) narrowed to
    those matching the words, the facets and "places left" (PostgreSQL)."""
    if filters.available:
        qs = qs.filter(_with_places_left(filters, now))
    # The words and the other filters are looked up together in one GIN
    # index (search_vector, facets), which gives only the courses that
    # match them all.
    query = _search_query(filters)
    if query is not None:
        qs = qs.filter(search_vector=query)
    facets = _facets_query(filters)
    if facets is not None:
        qs = qs.filter(facets=facets)
    return qs


def _matching(
    qs: QuerySet[Course], filters: CatalogueFilters, now: dt.datetime
) -> QuerySet[Course]:
    """`qs` narrowed to published courses that match every filter but the dates
    (which callers apply to the sessions they join or look for)."""
    qs = qs.filter(status=Course.Status.PUBLISHED)
    if settings.IS_POSTGRES:
        return _matching_words_and_facets(qs, filters, now)
    if filters.available:
        qs = qs.filter(_with_places_left(filters, now))
    if filters.topic:
        qs = qs.filter(
            Exists(
                Course.topics.through.objects.filter(
                    course_id=OuterRef("pk"), topic_id=filters.topic.pk
                )
            )
        )
    if filters.mode:
        qs = qs.filter(mode=filters.mode)
    if filters.provider:
        qs = qs.filter(provider=filters.provider)
    if filters.free:
        qs = qs.filter(price=0)
    for term in search_terms(filters.q):
        qs = qs.filter(
            Q(title__icontains=term)
            | Q(summary__icontains=term)
            | Q(description__icontains=term)
            | Q(provider__name__icontains=term)
            | Exists(Topic.objects.filter(courses=OuterRef("pk"), name__icontains=term))
        )
    return qs


def _kept_next_session(filters: CatalogueFilters) -> bool:
    """Whether `Course.next_session_at` answers "the first session in range":
    with no dates, on PostgreSQL (whose triggers keep it), once
    `courses.services.refresh_next_sessions` has moved on the courses whose
    next session has started."""
    return settings.IS_POSTGRES and not filters.date_from and not filters.date_to


def with_next_places_left(courses) -> list[Course]:
    """The rows of `courses_for_catalogue` given (a page of them), each with
    `next_places_left`: places left on its first session in range (of those
    starting then, the lowest id). One query for these rows, rather than a
    subquery in the page's own, which PostgreSQL would run for every row the
    page skips over too."""
    courses = list(courses)
    if not courses:
        return courses
    wanted = {(c.pk, c.next_starts_at) for c in courses}
    sessions = (
        Session.objects.filter(
            course_id__in={c.pk for c in courses},
            starts_at__in={c.next_starts_at for c in courses},
            status=Session.Status.SCHEDULED,
        )
        .annotate(left=_places_left())
        .order_by("-pk")  # the lowest id last, so it is the one kept
        .values_list("course_id", "starts_at", "left")
    )
    first = {
        (course, starts): left
        for course, starts, left in sessions
        if (course, starts) in wanted
    }
    for c in courses:
        c.next_places_left = first.get((c.pk, c.next_starts_at), 0)
    return courses


def _sql(qs: QuerySet) -> tuple[str, list]:
    sql, params = qs.query.sql_with_params()
    return sql, list(params)


class MatchesInOrder:
    """The ids of a listing's courses, each with the start of its first
    session in range, in the listing's order: SQL over `CourseSearch` the ORM
    cannot write (a subquery kept whole by OFFSET 0, an outer query's column
    in "places left"), made
    of querysets the ORM compiles (`_matches_in_order`). Sliced, it reads
    that slice."""

    def __init__(
        self, sql: str, params: list, *, order: str, sorted_in_full: bool
    ) -> None:
        self.sql = sql
        self.params = params
        # The ORDER BY of `sql`, by its output columns.
        self.order = order
        # Ranked, by title or within dates: every match is read whatever the
        # slice (by title, or walked to the 501st), so a listing counts its
        # first ones from the same read.
        self.sorted_in_full = sorted_in_full

    def count_and_slice(
        self, cap: int, start: int, stop: int
    ) -> tuple[int, list[tuple[int, dt.datetime]]]:
        """How many of the first `cap` matches there are, and the slice
        [start:stop] of them, in one query: PostgreSQL keeps the first `cap`
        (MATERIALIZED) and sends only the count and the slice. Reading all
        `cap` rows into Python to count them cost about as much again as the
        slice's query at 50,000 courses (docs/performance.md, "Eleventh
        round")."""
        # Every value is a parameter; the text is ours (`order`, `sql`).
        sql = (
            f"WITH m AS MATERIALIZED ({self.sql} LIMIT %s) "  # noqa: S608
            "SELECT c.n, p.* FROM (SELECT count(*) AS n FROM m) c "
            f"LEFT JOIN LATERAL (SELECT * FROM m ORDER BY {self.order} "
            "LIMIT %s OFFSET %s) p ON true"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self.params, cap, stop - start, start])
            rows = cursor.fetchall()
        # No row of the slice: one row, its columns null.
        return rows[0][0], [(row[1], row[2]) for row in rows if row[1] is not None]

    def __getitem__(self, index: slice) -> list[tuple[int, dt.datetime]]:
        start = index.start or 0
        # LIMIT NULL is LIMIT ALL.
        limit = None if index.stop is None else index.stop - start
        with connection.cursor() as cursor:
            cursor.execute(
                f"{self.sql} LIMIT %s OFFSET %s", [*self.params, limit, start]
            )
            return [(row[0], row[1]) for row in cursor.fetchall()]


class CoursesByIds:
    """A catalogue listing whose matching and order come from `CourseSearch`
    (`matches`: the courses' ids and first sessions in range, in order) and
    whose rows come from `courses` a slice at a time. A Paginator takes it
    like a queryset; `catalogue_count` counts it.

    Counted, a listing sorted in full (ranked, by title, or by each match's
    first session in a date range), which reads every match whatever the
    page (a facet filter by title walks its title index to the 501st),
    reads its matches once for its count and its page: told which slice the
    page will ask for (`expect`), `count` reads the count of its first `cap`
    matches (the count's cap and one more) and that slice in one query
    (`MatchesInOrder.count_and_slice`); told none, or one beyond the first
    matches, it reads the first `cap` and keeps them for any page within
    them. With the count from the cache, a page is read by itself. Otherwise
    (by date without dates) a page walks the index only as far as its end
    and `count` is `courses_for_catalogue_count`, which stops at the cap:
    reading the first 501 in date order cost more than both ("maths" at
    50,000 courses: 6.4 ms against 0.9 and 1.4). A slice then reads its
    courses by id."""

    ordered = True

    def __init__(
        self,
        matches: MatchesInOrder,
        courses: QuerySet[Course],
        *,
        cap: int,
        count: Callable[[], int],
    ) -> None:
        self.matches = matches
        self.courses = courses
        self.cap = cap
        self.counted = matches.sorted_in_full
        self._count = count
        self._first: list[tuple[int, dt.datetime]] | None = None
        # The slice the page will ask for (`expect`), and once counted, its
        # matches.
        self._window: tuple[int, int] | None = None
        self._in_window: list[tuple[int, dt.datetime]] | None = None
        self._how_many: int | None = None

    def expect(self, start: int, stop: int) -> None:
        """Say which slice will be asked for after `count`: a listing sorted
        in full then reads it with its count, in one query."""
        self._window = (start, stop)

    def first_matches(self) -> list[tuple[int, dt.datetime]]:
        if self._first is None:
            self._first = self.matches[: self.cap]
        return self._first

    def count(self) -> int:
        """How many rows, up to `cap` (more than `cap - 1` is all it tells,
        as `courses_for_catalogue_count`); sorted in full, with the slice
        said by `expect` when it lies within the first `cap` matches."""
        if not self.counted:
            return self._count()
        if self._how_many is None:
            if self._first is None and self._window and self._window[1] <= self.cap:
                self._how_many, self._in_window = self.matches.count_and_slice(
                    self.cap, *self._window
                )
            else:
                self._how_many = len(self.first_matches())
        return self._how_many

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        if start < 0 or (stop is not None and stop < 0):
            raise ValueError("Negative indexing is not supported.")
        if index.step not in (None, 1):
            raise ValueError("A step is not supported.")
        if stop is not None and stop <= start:
            return []
        if (
            self._in_window is not None
            and start == self._window[0]
            and stop is not None
            and stop <= self._window[1]
        ):
            # The last page asks only as far as the count.
            found = self._in_window[: stop - start]
        elif self._first is not None and stop is not None and stop <= self.cap:
            found = self._first[start:stop]
        else:
            # Not counted here (a count from the cache), or beyond the first
            # matches: PostgreSQL sorts them all and sends the slice.
            found = self.matches[start:stop]
        if not found:
            return []
        rows = {
            c.pk: c
            for c in self.courses.filter(pk__in=[pk for pk, _ in found]).order_by()
        }
        page = []
        for pk, starts in found:
            # A course unpublished between the two reads is left out.
            if course := rows.get(pk):
                course.next_starts_at = starts
                page.append(course)
        return page

    def __iter__(self):
        return iter(self[:])


def _reads_course_search(filters: CatalogueFilters, *, sort: str, ranked: bool) -> bool:
    """Whether `courses_for_catalogue` matches and orders in `CourseSearch`
    (`_matches_in_order`) rather than in the course table: a search or a
    facet filter on PostgreSQL, ranked or by date, and sorted there in full
    or walked in `CourseSearch`'s own indexes (which hold the facets,
    migration 0014). A search by title without dates or "places left" is
    sorted there too: PostgreSQL guesses a prefix matches 1,000 courses, so
    at 50,000 it sorted a broad word's matches in the wide course table
    rather than walk its titles (4,000 pages, 18-22 ms, where sorting them
    in `CourseSearch` reads 2,160, 6-11 ms; docs/performance.md, "Tenth
    round"). Except where PostgreSQL would do better walking an index of
    the course table in the listing's order and stopping when the page is
    full:

    - by title within dates or with "places left", or by date within dates,
      when only the mode or the price narrows the listing: each matches a
      third or more of the catalogue, so a walk stops soon, where sorting
      works out and sorts every match's first session (at 50,000 courses,
      11-26 ms against 1-12 walking, for pages 1 to 22; docs/performance.md,
      "Tenth round"). Words, topics and providers match a tenth or less,
      and a walk through them for a page deep in the list took 82-120 ms
      against 39 ("Eighth round")."""
    if not settings.IS_POSTGRES:
        return False
    words = _search_query(filters) is not None
    if not words and not _facet_lexemes(filters):
        return False
    dated = not _kept_next_session(filters)
    if ranked or (sort != "title" and not dated):
        return True
    if sort == "title" and not (dated or filters.available):
        return True
    return words or filters.topic is not None or filters.provider is not None


def _upcoming_rows(filters: CatalogueFilters, now: dt.datetime) -> QuerySet:
    """`CourseSearch` rows of courses with an upcoming session, and within
    dates those that may have one in range: any upcoming session at all
    (even if `refresh_next_sessions` passed the course over, as it skips a
    course being written, and its kept next one has started), none in range
    if the first upcoming one is after the last date. Whether one is in
    range is `_first_start_in_range`."""
    if _kept_next_session(filters):
        return CourseSearch.objects.filter(next_session_at__gt=now)
    rows = CourseSearch.objects.filter(next_session_at__isnull=False)
    _start, end = _date_range(filters)
    if end:
        rows = rows.filter(next_session_at__lt=end)
    return rows


def _first_start_in_range(filters: CatalogueFilters, now: dt.datetime) -> Case:
    """Within dates, of `_upcoming_rows` (`CourseSearch`): the start of each
    row's first session not started and from the first date on, worked out
    in the row; NULL if it has none. Callers check it is before the day
    after the last date (`_in_first_start_range`).

    That is the kept next session where it has not started and is on or
    after the first date. Otherwise it is found in the starts the row keeps
    in order (`session_starts`, migration 0017) by a binary search
    (`width_bucket`). Their sessions are not read: looking them up cost
    three index pages a match, for a third of a search's matches in the
    benchmark's catalogue (docs/performance.md, "Tenth round")."""
    start, _end = _date_range(filters)
    kept = Q(next_session_at__gt=now)
    # A session is in range if it starts after this moment: after now, and
    # from the first date (timestamps count microseconds).
    after = now
    if start:
        kept &= Q(next_session_at__gte=start)
        after = max(now, start - dt.timedelta(microseconds=1))
    found = RawSQL(
        '"courses_coursesearch"."session_starts"'
        '[width_bucket(%s, "courses_coursesearch"."session_starts") + 1]',
        (after,),
        output_field=DateTimeField(),
    )
    return Case(When(kept, then=F("next_session_at")), default=found)


def _in_first_start_range(filters: CatalogueFilters) -> Q:
    """Of rows annotated `first` (`_first_start_in_range`): those whose first
    session from the first date on is before the day after the last."""
    _start, end = _date_range(filters)
    return Q(first__lt=end) if end else Q(first__isnull=False)


def _matches_in_order(
    filters: CatalogueFilters,
    now: dt.datetime,
    *,
    rank_by: SearchQuery | None = None,
    by_title: bool = False,
) -> MatchesInOrder:
    """The courses matching `filters`' words and facets, read from
    `CourseSearch`, each with its first session in range, in the catalogue's
    order: by title, or by `rank_by`'s rank if given and then by that
    session, or by that session; then by id.

    Without dates the first session is the kept `next_session_at`, and by
    date or by title PostgreSQL walks `CourseSearch`'s index in that order
    (`coursesearch_next`, `coursesearch_title`: each holds the facets, so a
    facet filter is checked in the index alone, migration 0014), or sorts
    the matches where they are few. With dates each match's first session
    in range is worked out in its row (`_first_start_in_range`), without
    reading its sessions.

    A listing ranked, by title or within dates is sorted in full (or, by
    title, walked as far as its first 501 matches): "places left" is asked
    of it only after sorting, in order, so only as far as the page (the
    sorted matches are kept whole by OFFSET 0; PostgreSQL would otherwise
    ask it of every match before sorting), and its first 501 matches give
    its count."""
    dated = not _kept_next_session(filters)
    in_full = dated or by_title or rank_by is not None
    rows = _matching_words_and_facets(
        _upcoming_rows(filters, now), replace(filters, available=False), now
    )
    columns = ["pk", "next_session_at"]
    if dated:
        rows = rows.annotate(first=_first_start_in_range(filters, now))
        columns = ["pk", "first"]
    order = '"starts", "id"'
    if by_title:
        columns.append("title")
        order = '"title", "id"'
    elif rank_by is not None:
        rows = rows.annotate(rank=SearchRank(F("search_vector"), rank_by))
        columns.append("rank")
        order = '"rank" DESC, ' + order
    sql, params = _sql(rows.order_by().values(*columns))
    source, starts = f"({sql}) m", 'm."next_session_at"'
    where = []
    if dated:
        # Worked out once, in the select list: OFFSET 0 keeps PostgreSQL from
        # copying it into the WHERE as well.
        source, starts = f"({sql} OFFSET 0) m", 'm."first"'
        _start, end = _date_range(filters)
        where.append(f"{starts} IS NOT NULL" if end is None else f"{starts} < %s")
        params += [] if end is None else [end]
    rank = ', m."title"' if by_title else ', m."rank"' if rank_by is not None else ""
    # Every value below is a parameter; the text is ours or the ORM's.
    select = f'SELECT m."pk" AS "id", {starts} AS "starts"{rank} FROM {source}'  # noqa: S608

    def places_left(course: RawSQL) -> tuple[str, list]:
        return _sql(_sessions_with_places(filters, now, course).order_by().values("pk"))

    if filters.available and not in_full:
        # By date: PostgreSQL walks the index in order and asks as it goes.
        places, more = places_left(RawSQL('m."pk"', ()))
        where.append(f"EXISTS ({places})")
        params += more
    if where:
        select += " WHERE " + " AND ".join(where)
    if not filters.available or not in_full:
        sql = f"{select} ORDER BY {order}"
    else:
        places, more = places_left(RawSQL('p."id"', ()))
        sql = (
            f"SELECT p.* FROM ({select} ORDER BY {order} OFFSET 0) p"  # noqa: S608
            f" WHERE EXISTS ({places}) ORDER BY {order}"
        )
        params += more
    return MatchesInOrder(sql, params, order=order, sorted_in_full=in_full)


def courses_for_catalogue(
    filters: CatalogueFilters, *, now: dt.datetime | None = None
) -> QuerySet[Course] | CoursesByIds:
    """Published courses with an upcoming session that match the filters.

    Each row carries `next_starts_at`, the start of its first session in
    range; `with_next_places_left` adds the places left on it to a page.
    Without dates that is the course's own `next_session_at`, so sorting by
    date walks the index on it and stops after a page, and a search ranks
    its matches without joining their sessions. With dates the course is
    joined to its sessions in range and keeps the one with no earlier session
    in range, PostgreSQL walking `session_scheduled_start` in date order.
    Courses starting at the same moment are listed in the order they were
    added (by id), the order of those indexes (`course_published_next`,
    `session_scheduled_start_course`), so a page stops reading after its
    rows however many courses start at that moment; by title, they had to
    be read and sorted all together. Count with
    `courses_for_catalogue_count`, which is cheaper than counting this.

    A search or a facet filter is matched and ordered in the narrow
    `CourseSearch` table and its page's rows read by id (`CoursesByIds`):
    ranking reads every match, and from there it reads a quarter of the
    pages. Within dates, each match's first session in range is worked out
    in its row there (`_first_start_in_range`). Not where walking the
    course titles, or the sessions in date order, costs less
    (`_reads_course_search`).
    """
    now = now or timezone.now()
    query = _search_query(filters)
    sort = filters.sort or ("relevance" if query is not None else "soonest")
    courses = (
        # The cards never show these; they are the widest columns.
        Course.objects.defer("description", "search_vector", "facets")
        .select_related("provider")
        .prefetch_related("topics")
    )
    ranked = sort == "relevance" and query is not None
    if _reads_course_search(filters, sort=sort, ranked=ranked):
        return CoursesByIds(
            _matches_in_order(
                filters,
                now,
                rank_by=query if ranked else None,
                by_title=sort == "title",
            ),
            courses.filter(status=Course.Status.PUBLISHED),
            cap=CATALOGUE_COUNT_CAP + 1,
            count=lambda: courses_for_catalogue_count(filters, now=now),
        )
    if _kept_next_session(filters):
        qs = courses.filter(next_session_at__gt=now).annotate(
            next_starts_at=F("next_session_at")
        )
    else:
        earlier = Session.objects.filter(
            _in_range(filters, now),
            # Earlier: starts before, or at the same time with a lower id. The
            # `lte` says the same twice, as a range the index can use.
            Q(starts_at__lt=OuterRef("next_starts_at"))
            | Q(pk__lt=OuterRef("next_session_id")),
            course_id=OuterRef("pk"),
            starts_at__lte=OuterRef("next_starts_at"),
        )
        qs = (
            courses.annotate(
                next_session=FilteredRelation(
                    "sessions", condition=_in_range(filters, now, "sessions__")
                ),
                next_starts_at=F("next_session__starts_at"),
                next_session_id=F("next_session__id"),
            )
            .filter(next_session_id__isnull=False)
            .filter(~Exists(earlier))
        )
    qs = _matching(qs, filters, now)
    if sort == "title":
        return qs.order_by("title", "pk")
    if sort == "relevance" and query is not None:
        # Ranked only when sorted by it: in the select list of a search
        # sorted by title or date, PostgreSQL ranked every match it read
        # (reading each one's vector) though no card shows the rank.
        qs = qs.annotate(rank=SearchRank(F("search_vector"), query))
        return qs.order_by("-rank", "next_starts_at", "pk")
    return qs.order_by("next_starts_at", "pk")


# The catalogue counts its results up to this many and then says "more
# than" and shows the first ones: counting every match costs time that grows
# with the catalogue (tens of milliseconds at 50,000 courses, far more with
# "places left"), and pages beyond it (an OFFSET that large) likewise. A
# search or filter narrows anything bigger. 500 (25 pages of 20) keeps the
# dearest count, "places left" at 50,000 courses, near 5 ms; at 1,000 it
# was 8-11 ms (docs/performance.md).
CATALOGUE_COUNT_CAP = 500


def courses_for_catalogue_count(
    filters: CatalogueFilters,
    *,
    now: dt.datetime | None = None,
    cap: int | None = None,
) -> int:
    """How many rows `courses_for_catalogue` has, up to `cap + 1` (more than
    `cap` is all it tells), asking only whether each course has a session in
    range rather than joining the first one. PostgreSQL stops at `cap + 1`
    matches, so the cost is bounded however big the catalogue grows."""
    now = now or timezone.now()
    cap = CATALOGUE_COUNT_CAP if cap is None else cap
    if settings.IS_POSTGRES:
        # The narrow table (published courses only): a broad word's matches
        # on a quarter of the pages; within dates, whether a session is in
        # range is worked out in each row, without reading the sessions.
        rows = _upcoming_rows(filters, now)
        if not _kept_next_session(filters):
            rows = rows.alias(first=_first_start_in_range(filters, now)).filter(
                _in_first_start_range(filters)
            )
        matching = _matching_words_and_facets(rows, filters, now)
    else:
        in_range = Session.objects.filter(
            _in_range(filters, now), course=OuterRef("pk")
        )
        matching = _matching(Course.objects.filter(Exists(in_range)), filters, now)
    return matching.order_by().values("pk")[: cap + 1].count()


def catalogue_count(
    listing: QuerySet[Course] | CoursesByIds,
    filters: CatalogueFilters,
    *,
    now: dt.datetime,
    window: tuple[int, int] | None = None,
) -> Callable[[], int]:
    """How to count `listing` (`courses_for_catalogue(filters, now=now)`) up
    to the cap and one more: a `CoursesByIds` counts itself (from its first
    matches when sorted in full, reading the slice `window` that its page
    will ask for in the same query), anything else by
    `courses_for_catalogue_count`. Returned to be called, so a cached count
    costs nothing."""
    if isinstance(listing, CoursesByIds):
        if window is not None:
            listing.expect(*window)
        return listing.count
    return lambda: courses_for_catalogue_count(filters, now=now)


def catalogue_unchanged_until(*, now: dt.datetime) -> dt.datetime | None:
    """When time passing next changes any catalogue page: the start of the next
    scheduled session, which then stops being upcoming. None if there is none."""
    return (
        Session.objects.filter(status=Session.Status.SCHEDULED, starts_at__gt=now)
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )


def topics_all() -> QuerySet[Topic]:
    return Topic.objects.order_by("name")


def providers_all() -> QuerySet[Provider]:
    return Provider.objects.order_by("name")
