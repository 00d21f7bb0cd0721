"""Reads for marketing: a campaign's audience, how many of it may be contacted,
delivery counts, and the courses recommended to a person.

`people_contactable` is the set-based form of `consent.selectors.can_contact`,
for counts and lists; a test holds the two equal. Sending never relies on it:
each message asks `can_contact` at the moment it is sent.
"""

from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Upper
from django.utils import timezone

from accounts.models import Profile, User
from bookings.models import Booking
from consent.models import MARKETING_PURPOSES, ConsentRecord, Purpose
from consent.selectors import can_contact
from courses.models import Course, Session, Topic

from .models import Campaign, Delivery


def campaign_audience(campaign: Campaign) -> QuerySet[User]:
    """Everyone with an account who could be in the audience, before consent.

    The choices narrow the audience: each kind of choice made must match (any
    of its values)."""
    people = User.objects.filter(is_active=True, erased_at__isnull=True)
    if campaign.audience != Campaign.Audience.CHOSEN:
        return people
    if campaign.pk and campaign.topics.exists():
        people = people.filter(
            Exists(
                Booking.objects.filter(
                    person=OuterRef("pk"),
                    session__course__topics__in=campaign.topics.all(),
                ).exclude(status=Booking.Status.CANCELLED)
            )
        )
    if titles := Campaign.lines(campaign.job_titles):
        match = Q()
        for title in titles:
            match |= Q(profile__job_title__iexact=title)
        people = people.filter(match)
    if campaign.organisation_kinds:
        people = people.filter(
            profile__organisation__kind__in=campaign.organisation_kinds
        )
    if areas := Campaign.lines(campaign.areas):
        match = Q()
        for area in areas:
            match |= Q(profile__organisation__area__iexact=area)
        people = people.filter(match)
    return people


def people_contactable(
    people: QuerySet[User], *, channel: str, purpose: str
) -> QuerySet[User]:
    """Those of `people` whom `can_contact(person, channel, purpose)` allows now."""
    latest = ConsentRecord.objects.filter(
        person=OuterRef("pk"), purpose=purpose, channel=channel
    ).order_by("-recorded_at", "-pk")
    people = people.annotate(
        latest_consent=Subquery(latest.values("granted")[:1])
    ).filter(
        latest_consent=True,
        is_active=True,
        erased_at__isnull=True,
        processing_restricted=False,
    )
    if purpose in MARKETING_PURPOSES:
        people = people.filter(objects_to_direct_marketing=False)
    return people


def campaign_recipients(campaign: Campaign) -> QuerySet[User]:
    return people_contactable(
        campaign_audience(campaign), channel=campaign.channel, purpose=campaign.purpose
    )


def campaign_audience_ids(campaign: Campaign) -> QuerySet:
    """The audience as a flat queryset of ids, in id order, for streaming."""
    return campaign_audience(campaign).order_by("pk").values_list("pk", flat=True)


def campaign_counts(campaign: Campaign) -> dict[str, int]:
    """How many people the audience holds and how many may be contacted today."""
    return {
        "audience": campaign_audience(campaign).count(),
        "contactable": campaign_recipients(campaign).count(),
    }


def delivery_counts(campaign: Campaign) -> dict[str, int]:
    """{status: count} for every delivery status, zeros included."""
    counts = dict.fromkeys(Delivery.Status.values, 0)
    counts.update(
        Delivery.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return counts


def contact_list_rows(campaign: Campaign):
    """Name and the contact details for the campaign's channel, for those who
    may be contacted on it, streamed in id order."""
    details = (
        ("phone",)
        if campaign.channel == "phone"
        else ("address_line_1", "address_line_2", "town", "postcode")
    )
    people = campaign_recipients(campaign).order_by("pk")
    if campaign.channel == "phone":
        people = people.exclude(profile__phone="").exclude(profile__isnull=True)
    else:
        people = people.exclude(profile__address_line_1="").exclude(
            profile__postcode=""
        )
    return people.values_list(
        "first_name", "last_name", *(f"profile__{d}" for d in details)
    ).iterator(chunk_size=2000)


def profiling_allowed(person: User) -> bool:
    """Recommendations use bookings only with consent to profiling (which is
    also refused while processing is restricted or the person objected)."""
    return can_contact(person, "web", Purpose.PROFILING)


def recommended_courses(person: User, *, limit: int = 3) -> QuerySet[Course]:
    """Published courses with an upcoming session that share topics with what
    the person booked, or with what people with their job title booked; never
    a course they have booked. One query. Ask `profiling_allowed` first."""
    live = Booking.objects.exclude(status=Booking.Status.CANCELLED)
    booked = live.filter(person=person).values("session__course")
    job_title = Subquery(Profile.objects.filter(user=person).values("job_title")[:1])
    peers = (
        live.alias(peer_title=Upper("person__profile__job_title"))
        .filter(peer_title=Upper(job_title))
        .exclude(person__profile__job_title="")
        .values("session__course")
    )
    topics = Topic.objects.filter(Q(courses__in=booked) | Q(courses__in=peers)).values(
        "pk"
    )
    upcoming = Session.objects.filter(
        course=OuterRef("pk"),
        status=Session.Status.SCHEDULED,
        starts_at__gt=timezone.now(),
    )
    return (
        Course.objects.filter(status=Course.Status.PUBLISHED, topics__in=topics)
        .filter(Exists(upcoming))
        .exclude(pk__in=booked)
        .annotate(matches=Count("topics", distinct=True))
        .order_by("-matches", "title", "pk")[:limit]
    )
