"""Reads for the bookings pages. Each returns a queryset with what the page
shows computed in SQL (waiting-list position, running balance), so the query
count does not grow with the number of bookings."""

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import ExtractYear
from django.utils import timezone

from accounts.models import User

from .models import Booking, MailRecord, PriorLearning, Transaction

# A booking still to come: a place, a waiting-list entry, an offer, or one
# awaiting approval (My bookings' upcoming list, the course page's dates).
STILL_AHEAD = (
    Booking.Status.CONFIRMED,
    Booking.Status.WAITLISTED,
    Booking.Status.OFFERED,
    Booking.Status.AWAITING_APPROVAL,
)


def _waiting_position() -> Subquery:
    """The outer booking's place on its session's waiting list (1 is next):
    how many waitlisted bookings were made before it, itself included."""
    return Subquery(
        Booking.objects.filter(
            session=OuterRef("session"),
            status=Booking.Status.WAITLISTED,
        )
        .filter(
            Q(created_at__lt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), pk__lte=OuterRef("pk"))
        )
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values("n")
    )


def bookings_for_person(*, person: User) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(person=person)
        .select_related(
            "session__course__provider", "approval_organisation", "booked_by"
        )
        .annotate(waiting_position=_waiting_position())
        .order_by("session__starts_at", "pk")
    )


def live_bookings_on(*, person: User, session_ids: list[int]) -> QuerySet[Booking]:
    """The person's live bookings (a place, a waiting-list entry, an offer or
    one awaiting approval) on these sessions, with `waiting_position` and
    nothing else joined: what the course page says beside each date."""
    return (
        Booking.objects.filter(
            person=person,
            session_id__in=session_ids,
            status__in=STILL_AHEAD,
        )
        .only("pk", "session_id", "status", "person_id", "created_at")
        .annotate(waiting_position=_waiting_position())
    )


def bookings_upcoming(*, person: User) -> QuerySet[Booking]:
    return bookings_for_person(person=person).filter(
        session__ends_at__gt=timezone.now(),
        status__in=STILL_AHEAD,
    )


def bookings_past(*, person: User) -> QuerySet[Booking]:
    return (
        bookings_for_person(person=person)
        .exclude(
            session__ends_at__gt=timezone.now(),
            status__in=STILL_AHEAD,
        )
        .order_by("-session__starts_at", "-pk")
    )


def attended_for_person(*, person: User) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(person=person, status=Booking.Status.ATTENDED)
        .select_related("session__course__provider")
        .order_by("-session__starts_at", "-pk")
    )


def prior_learning_for_person(*, person: User) -> QuerySet[PriorLearning]:
    return PriorLearning.objects.filter(person=person).order_by("-completed_on", "-pk")


def cpd_hours_by_year(*, person: User) -> dict[int, dict]:
    """{year: {"booked": hours from attended sessions, "elsewhere": hours, "total"}}"""
    years: dict[int, dict] = {}
    attended = (
        Booking.objects.filter(person=person, status=Booking.Status.ATTENDED)
        .annotate(year=ExtractYear("session__starts_at"))
        .values("year")
        .annotate(hours=Sum("session__course__cpd_hours"))
    )
    for row in attended:
        years.setdefault(row["year"], {"booked": 0, "elsewhere": 0})["booked"] = row[
            "hours"
        ]
    elsewhere = (
        PriorLearning.objects.filter(person=person)
        .annotate(year=ExtractYear("completed_on"))
        .values("year")
        .annotate(hours=Sum("cpd_hours"))
    )
    for row in elsewhere:
        years.setdefault(row["year"], {"booked": 0, "elsewhere": 0})["elsewhere"] = row[
            "hours"
        ]
    for row in years.values():
        row["total"] = row["booked"] + row["elsewhere"]
    return dict(sorted(years.items(), reverse=True))


def balance_after() -> Window:
    """The running total of a statement's transactions up to and including
    each one (in the order they were made), to annotate a statement with. A
    window over every row the query selects, so it stays right when the rows
    are shown newest first or sliced into pages."""
    return Window(Sum("amount"), order_by=[F("created_at").asc(), F("pk").asc()])


def transactions_for_person(*, person: User) -> QuerySet[Transaction]:
    """The person's transactions, newest first, each with `balance`: the
    running total after it (`balance_after`)."""
    return (
        Transaction.objects.filter(person=person)
        .select_related("booking__session__course", "organisation")
        .annotate(balance=balance_after())
        .order_by("-created_at", "-pk")
    )


def bookings_to_evaluate(*, person: User) -> QuerySet[Booking]:
    # Never prompt for a session that has not started (submit_evaluation refuses it).
    return attended_for_person(person=person).filter(
        evaluation__isnull=True, session__starts_at__lte=timezone.now()
    )


def certificate_get(*, code: str) -> Booking | None:
    return (
        Booking.objects.filter(
            certificate_code=code.strip().upper(), status=Booking.Status.ATTENDED
        )
        .select_related("person", "session__course")
        .first()
    )


def evaluations_for_session(*, session_id: int):
    from .models import Evaluation

    return Evaluation.objects.filter(booking__session_id=session_id).order_by(
        "-created_at"
    )


def register_for_session(*, session_id: int) -> QuerySet[Booking]:
    """Each booking with `mail_not_sent`: the kind of its latest mail that was
    not sent for good (its confirmation, say), or None."""
    not_sent = (
        MailRecord.objects.filter(
            booking=OuterRef("pk"), status=MailRecord.Status.GAVE_UP
        )
        .order_by("-created_at")
        .values("kind")[:1]
    )
    return (
        Booking.objects.filter(session_id=session_id)
        .select_related("person__profile__organisation")
        .annotate(mail_not_sent=Subquery(not_sent))
        .order_by("status", "created_at", "pk")
    )
