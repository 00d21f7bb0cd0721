"""Reads of the catalogue that pages, admin and reports share.

Every selector returns a queryset whose per-row figures (next session, places
left) are computed in the SQL, so a page runs a fixed number of queries however
many rows it shows. Booking counts use the `bookings` reverse relation of
Session without importing the bookings app.
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Greatest
from django.utils import timezone

from .models import Course, Provider, Session, Topic

# Booking statuses that hold a place (bookings.Booking.PLACE_HOLDING; a test keeps them equal).
PLACE_HOLDING = ("confirmed", "offered", "attended", "no_show")
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


def sessions_with_counts() -> QuerySet[Session]:
    return Session.objects.annotate(
        confirmed_count=CONFIRMED,
        waiting_count=WAITING,
        places_left=Greatest(F("capacity") - CONFIRMED, Value(0)),
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
        .filter(
            course=course, status=Session.Status.SCHEDULED, starts_at__gt=timezone.now()
        )
        .select_related("course")
        .order_by("starts_at")
    )


def sessions_for_home(*, limit: int = 8) -> QuerySet[Session]:
    return (
        sessions_with_counts()
        .filter(
            status=Session.Status.SCHEDULED,
            starts_at__gt=timezone.now(),
            course__status=Course.Status.PUBLISHED,
        )
        .select_related("course", "course__provider")
        .order_by("starts_at")[:limit]
    )


def search_terms(q: str) -> list[str]:
    return re.findall(r"\w+", q.lower())[:10]


def course_get_published(*, slug: str, preview: bool = False) -> Course:
    qs = Course.objects.select_related("provider").prefetch_related("topics")
    if not preview:
        qs = qs.filter(status=Course.Status.PUBLISHED)
    return qs.get(slug=slug)


def courses_for_catalogue(filters: CatalogueFilters) -> QuerySet[Course]:
    """Published courses with an upcoming session that match the filters.

    Each row carries `next_starts_at` and `next_places_left` for the first
    upcoming session within the date range.
    """
    upcoming = Session.objects.filter(
        course=OuterRef("pk"),
        status=Session.Status.SCHEDULED,
        starts_at__gt=timezone.now(),
    )
    if filters.date_from:
        upcoming = upcoming.filter(starts_at__gte=_start_of_day(filters.date_from))
    if filters.date_to:
        upcoming = upcoming.filter(
            starts_at__lt=_start_of_day(filters.date_to + dt.timedelta(days=1))
        )
    with_places = (
        upcoming.order_by()
        .values("pk")
        .annotate(confirmed=CONFIRMED)
        .filter(capacity__gt=F("confirmed"))
    )
    first = upcoming.order_by("starts_at", "pk")
    qs = (
        Course.objects.filter(status=Course.Status.PUBLISHED)
        .filter(Exists(upcoming))
        .select_related("provider")
        .prefetch_related("topics")
        .annotate(
            next_starts_at=Subquery(first.values("starts_at")[:1]),
            next_places_left=Subquery(
                first.annotate(
                    left=Greatest(F("capacity") - CONFIRMED, Value(0))
                ).values("left")[:1],
                output_field=IntegerField(),
            ),
        )
    )
    if filters.available:
        qs = qs.filter(Exists(with_places))
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

    terms = search_terms(filters.q)
    ranked = False
    if terms:
        if settings.IS_POSTGRES:
            # Prefix matching on every word: "safeguard" finds "Safeguarding".
            query = SearchQuery(
                " & ".join(f"{t}:*" for t in terms), search_type="raw", config="english"
            )
            qs = qs.filter(search_vector=query).annotate(
                rank=SearchRank(F("search_vector"), query)
            )
            ranked = True
        else:
            for term in terms:
                qs = qs.filter(
                    Q(title__icontains=term)
                    | Q(summary__icontains=term)
                    | Q(description__icontains=term)
                    | Q(provider__name__icontains=term)
                    | Exists(
                        Topic.objects.filter(
                            courses=OuterRef("pk"), name__icontains=term
                        )
                    )
                )
    sort = filters.sort or ("relevance" if ranked else "soonest")
    if sort == "title":
        return qs.order_by("title", "pk")
    if sort == "relevance" and ranked:
        return qs.order_by("-rank", "next_starts_at", "pk")
    return qs.order_by("next_starts_at", "title", "pk")


def topics_all() -> QuerySet[Topic]:
    return Topic.objects.order_by("name")


def providers_all() -> QuerySet[Provider]:
    return Provider.objects.order_by("name")
