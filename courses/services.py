"""Writes to the catalogue: publishing, archiving, copying, the search index, and
the version that every cached catalogue page is keyed by.

Admin actions call these; each owns its transaction. Whatever changes what the
public catalogue shows (a course, session, provider or topic, or a booking,
which changes places left) calls `catalogue_changed()`; the services here do
so themselves.
"""

import datetime as dt
import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import Organisation

from . import selectors
from .models import Course, Reservation, Session

log = logging.getLogger(__name__)

# Cached catalogue pages live at most this long, so that anything not announced
# by catalogue_changed() (a change made in a shell, say) shows within a minute.
CATALOGUE_CACHE_SECONDS = 60
_VERSION_KEY = "courses:catalogue:version"
T = TypeVar("T")


class CoursesError(Exception):
    """A refusal whose message is safe to show."""


_REINDEX_SQL = """
UPDATE courses_course AS c SET search_vector =
    setweight(to_tsvector('english', coalesce(c.title, '')), 'A')
 || setweight(to_tsvector('english', coalesce(c.summary, '')), 'B')
 || setweight(to_tsvector('english', coalesce(p.name, '')), 'B')
 || setweight(to_tsvector('english', coalesce((
        SELECT string_agg(t.name, ' ') FROM courses_topic t
        JOIN courses_course_topics ct ON ct.topic_id = t.id
        WHERE ct.course_id = c.id), '')), 'B')
 || setweight(to_tsvector('english', coalesce(c.description, '')), 'C')
FROM courses_provider AS p
WHERE p.id = c.provider_id
"""


def reindex_courses(course_ids: Iterable[int] | None = None) -> None:
    """Refresh the full-text search vector (title, summary, provider, topics,
    description) and mark the catalogue changed. On SQLite, where search is a
    plain contains match, only the latter."""
    ids = None if course_ids is None else list(course_ids)
    if settings.IS_POSTGRES and (ids is None or ids):
        with connection.cursor() as cursor:
            if ids is None:
                cursor.execute(_REINDEX_SQL)
            else:
                cursor.execute(_REINDEX_SQL + " AND c.id = ANY(%s)", [ids])
    catalogue_changed()


def _unique_slug(base: str) -> str:
    base = slugify(base)[:100] or "course"
    slug, n = base, 2
    while Course.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


def publish_courses(courses: Iterable[Course]) -> int:
    ids = [c.pk for c in courses]
    n = (
        Course.objects.filter(pk__in=ids)
        .exclude(status=Course.Status.PUBLISHED)
        .update(status=Course.Status.PUBLISHED)
    )
    catalogue_changed()
    return n


def archive_courses(courses: Iterable[Course]) -> int:
    ids = [c.pk for c in courses]
    n = (
        Course.objects.filter(pk__in=ids)
        .exclude(status=Course.Status.ARCHIVED)
        .update(status=Course.Status.ARCHIVED)
    )
    catalogue_changed()
    return n


@transaction.atomic
def duplicate_course(course: Course) -> Course:
    """A draft copy of the course with its topics and no sessions."""
    topics = list(course.topics.all())
    copy = Course.objects.get(pk=course.pk)
    copy.pk = None
    copy.id = None
    copy.title = _("%(title)s (copy)") % {"title": course.title}
    copy.slug = _unique_slug(f"{course.slug}-copy")
    copy.status = Course.Status.DRAFT
    copy.search_vector = None
    copy.save()
    copy.topics.set(topics)
    reindex_courses([copy.pk])  # which also marks the catalogue changed
    return copy


def add_session_like(
    session: Session, *, after: dt.timedelta = dt.timedelta(days=7)
) -> Session:
    """A new scheduled session of the same course, a week after the latest one
    of that course, with the same time of day, length, capacity and venue."""
    latest = (
        Session.objects.filter(course_id=session.course_id)
        .order_by("-starts_at")
        .first()
    )
    shift = (latest.starts_at - session.starts_at) + after
    new = Session.objects.create(
        course_id=session.course_id,
        starts_at=session.starts_at + shift,
        ends_at=session.ends_at + shift,
        capacity=session.capacity,
        booking_closes_at=session.booking_closes_at + shift
        if session.booking_closes_at
        else None,
        venue=session.venue,
        venue_address=session.venue_address,
        accessibility_notes=session.accessibility_notes,
        parking_notes=session.parking_notes,
        joining_url=session.joining_url,
        status=Session.Status.SCHEDULED,
    )
    catalogue_changed()
    return new


# The courses whose next session has started, moved on to the next one still
# to come (or none; the function is in migration 0009), and when the next
# scheduled session starts.
_REFRESH_NEXT_SQL = """
SELECT r.moved, r.pending, (
    SELECT s.starts_at FROM courses_session s
    WHERE s.status = 'scheduled' AND s.starts_at > %(now)s
    ORDER BY s.starts_at LIMIT 1
)
FROM courses_refresh_next_sessions(%(now)s) r
"""


def refresh_next_sessions(*, now: dt.datetime) -> dt.datetime | None:
    """Move every published course whose next session has started by `now`
    on to its next one, so that `Course.next_session_at` is right as of
    `now` for the catalogue, which calls this before reading. Returns until
    when a catalogue page built now stays right: the next scheduled
    session's start (None if none; `selectors.catalogue_unchanged_until`,
    read in the same query), or `now` itself (keep nothing) if a course due
    to move could not be, because another transaction is writing its
    sessions at that moment (it is skipped, never waited for).

    When nothing has started (the usual case) it reads one index entry. If
    any course moved, the cached catalogue is marked changed, so that a page
    built meanwhile from the old values is never served. Each course is
    locked, then its next session read afresh (migration 0009), so a
    session written at the same moment is never missed."""
    if not settings.IS_POSTGRES:
        return selectors.catalogue_unchanged_until(now=now)
    with connection.cursor() as cursor:
        cursor.execute(_REFRESH_NEXT_SQL, {"now": now})
        moved, pending, next_start = cursor.fetchone()
    if moved:
        catalogue_changed()
    return now if pending else next_start


# ---------------------------------------------------------------- catalogue cache


def _fresh_version() -> int:
    # Microseconds since the epoch: if the key is evicted, the new version is
    # still higher than any it held before, so an old page cannot come back.
    return time.time_ns() // 1000


def _bump_catalogue_version() -> None:
    try:
        try:
            cache.incr(_VERSION_KEY)
        except ValueError:  # missing: never set, flushed or evicted
            if not cache.add(_VERSION_KEY, _fresh_version(), timeout=None):
                cache.incr(_VERSION_KEY)
    except Exception:
        # A booking must not fail because the cache is down; cached pages
        # expire within CATALOGUE_CACHE_SECONDS in any case.
        log.exception("Could not mark the cached catalogue stale")


def catalogue_changed() -> None:
    """Make every cached catalogue page stale, in every process.

    Call it after (or inside the transaction of) any write that changes what
    the catalogue shows. It bumps the version at once and, inside a
    transaction, again after the commit, so that a page rendered in between
    from the data before the commit is never served. Never raises.
    """
    _bump_catalogue_version()
    if connection.in_atomic_block:
        transaction.on_commit(_bump_catalogue_version, robust=True)


def members_changed(
    sender=None, *, organisations: set[int], was_kinds: set[str] = frozenset(), **kwargs
) -> None:
    """Members of `organisations` joining or leaving change how many of a
    reservation's places are left (a member's booking uses one of them), and
    so does their kind changing (`was_kinds`: those before): mark the cached
    catalogue changed when a reservation still running admits their
    members, by name or by kind. The receiver of
    `accounts.signals.members_changed`, which every write of memberships
    sends; one query."""
    kinds = Organisation.objects.filter(pk__in=organisations).values("kind")
    if Reservation.objects.filter(
        Q(organisation__in=organisations)
        | Q(organisation_kind__in=kinds)
        | Q(organisation_kind__in=was_kinds),
        released_at__isnull=True,
    ).exists():
        catalogue_changed()


def catalogue_version() -> int:
    """The current catalogue version."""
    version = cache.get(_VERSION_KEY)
    if version is None:
        cache.add(_VERSION_KEY, _fresh_version(), timeout=None)
        version = cache.get(_VERSION_KEY)
    return version


class _RecentParts:
    """The parts this process used last, each with the catalogue version it
    was built at and when it expires. A hit saves fetching and unpickling it
    from Redis (tens of kilobytes for a whole page); the version is still read
    from Redis on every request, so a change shows at once, as before, and
    nothing is served from here while Redis cannot be read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._parts: OrderedDict[str, tuple[int, Any, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, version: int) -> Any:
        with self._lock:
            part = self._parts.get(key)
            if part is None or part[0] != version or part[2] <= time.time():
                return _MISSING
            self._parts.move_to_end(key)
            return part[1]

    def put(self, key: str, version: int, value: Any, expires: float) -> None:
        with self._lock:
            self._parts[key] = (version, value, expires)
            self._parts.move_to_end(key)
            while len(self._parts) > self.size:
                self._parts.popitem(last=False)


_MISSING = object()
# (version, the next session's start) as this process last read them.
_last_next_change: tuple[int, dt.datetime | None] | None = None


def _next_change(version: int, now: dt.datetime) -> dt.datetime | None:
    """When time passing next changes a catalogue page: the start of the next
    scheduled session. Read once per catalogue version in each process (any
    change to sessions is a new version), and again once that start passes."""
    global _last_next_change
    known = _last_next_change
    if (
        known is not None
        and known[0] == version
        and (known[1] is None or known[1] > now)
    ):
        return known[1]
    until = selectors.catalogue_unchanged_until(now=now)
    _last_next_change = (version, until)
    return until


# At most a few megabytes per process (a whole catalogue page is about 30 KB).
_RECENT = _RecentParts(size=128)


class CatalogueCache:
    """Parts of catalogue pages in the shared cache, for one request made at `now`.

    A part is stored with the catalogue version read (once per request) before
    it was built from the database, and served only while that is still the
    version. It is kept no longer than until the next session starts (which
    then drops out of every list) or CATALOGUE_CACHE_SECONDS. The parts used
    last are kept in this process too (`_RecentParts`), under the same rules.
    If the cache is down, parts are built for every request.
    """

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self._until: dt.datetime | None = None
        self._until_known = False
        self._version: int | None = None

    def _current_version(self) -> int | None:
        if self._version is None:
            version = cache.get(_VERSION_KEY)
            self._version = catalogue_version() if version is None else version
        return self._version

    def get_or_build(self, kind: str, params: str, build: Callable[[], T]) -> T:
        """The part `kind` for the normalised query string `params`."""
        # What the render depends on besides the query: language and time zone.
        context = f"{get_language()}|{timezone.get_current_timezone_name()}"
        digest = hashlib.sha256(f"{context}?{params}".encode()).hexdigest()
        key = f"courses:catalogue:{kind}:{digest[:32]}"
        try:
            version = self._current_version()
            if version is None:  # the cache answers nothing: it is down
                return build()
            value = _RECENT.get(key, version)
            if value is not _MISSING:
                return value
            entry = cache.get(key)
        except Exception:
            log.warning("The catalogue cache is unavailable", exc_info=True)
            return build()
        # (version, value, expires): an entry of another shape is from an
        # older release, and is built again.
        if isinstance(entry, tuple) and len(entry) == 3 and entry[0] == version:
            _RECENT.put(key, version, entry[1], entry[2])
            return entry[1]
        value = build()
        self._keep(key, version, value)
        return value

    def unchanged_until(self, when: dt.datetime | None) -> None:
        """Say when time passing next changes what is being built (the caller
        knows, from what it read): saves `_keep` asking the database."""
        self._until, self._until_known = when, True

    def _keep(self, key: str, version: int, value: Any) -> None:
        if not self._until_known:
            self._until = _next_change(version, self.now)
            self._until_known = True
        seconds = CATALOGUE_CACHE_SECONDS
        if self._until is not None:
            left = (self._until - timezone.now()).total_seconds()
            seconds = min(seconds, math.floor(left))
        if seconds < 1:
            return
        expires = time.time() + seconds
        try:
            cache.set(key, (version, value, expires), seconds)
        except Exception:
            log.warning("The catalogue cache is unavailable", exc_info=True)
            return
        _RECENT.put(key, version, value, expires)
