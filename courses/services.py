"""Writes to the catalogue: publishing, archiving, copying and the search index.

Admin actions call these; each owns its transaction.
"""

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from .models import Course, Session


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
    description). A no-op on SQLite, where search is a plain contains match."""
    if not settings.IS_POSTGRES:
        return
    with connection.cursor() as cursor:
        if course_ids is None:
            cursor.execute(_REINDEX_SQL)
        else:
            ids = list(course_ids)
            if ids:
                cursor.execute(_REINDEX_SQL + " AND c.id = ANY(%s)", [ids])


def _unique_slug(base: str) -> str:
    base = slugify(base)[:100] or "course"
    slug, n = base, 2
    while Course.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


def publish_courses(courses: Iterable[Course]) -> int:
    ids = [c.pk for c in courses]
    return (
        Course.objects.filter(pk__in=ids)
        .exclude(status=Course.Status.PUBLISHED)
        .update(status=Course.Status.PUBLISHED)
    )


def archive_courses(courses: Iterable[Course]) -> int:
    ids = [c.pk for c in courses]
    return (
        Course.objects.filter(pk__in=ids)
        .exclude(status=Course.Status.ARCHIVED)
        .update(status=Course.Status.ARCHIVED)
    )


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
    reindex_courses([copy.pk])
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
    return Session.objects.create(
        course_id=session.course_id,
        starts_at=session.starts_at + shift,
        ends_at=session.ends_at + shift,
        capacity=session.capacity,
        booking_closes_at=session.booking_closes_at + shift
        if session.booking_closes_at
        else None,
        venue=session.venue,
        joining_url=session.joining_url,
        status=Session.Status.SCHEDULED,
    )
