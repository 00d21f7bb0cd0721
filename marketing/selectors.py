"""Reads for marketing: a campaign's audience, how many of it may be contacted,
delivery counts, and the courses recommended to a person.

`people_contactable` is the set-based form of `consent.selectors.can_contact`,
for counts and lists; a test holds the two equal. Sending never relies on it:
each message asks `can_contact` at the moment it is sent.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    Count,
    Exists,
    F,
    Func,
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


def may_measure(person: User) -> bool:
    """Whether opens and clicks may be recorded for this person now: they
    accepted analytics and have not objected to profiling (privacy notice
    1.7), and nothing overrides consent (restriction, erasure, an inactive
    account). One query."""
    if (
        not person.is_active
        or person.erased_at is not None
        or person.processing_restricted
    ):
        return False
    latest: dict[str, tuple[bool, str]] = {}
    for purpose, granted, source in (
        ConsentRecord.objects.filter(
            person=person,
            channel="web",
            purpose__in=[Purpose.ANALYTICS, Purpose.PROFILING],
        )
        .order_by("-recorded_at", "-pk")
        .values_list("purpose", "granted", "source")
    ):
        latest.setdefault(purpose, (granted, source))
    analytics = latest.get(Purpose.ANALYTICS, (False, ""))[0]
    profiling = latest.get(Purpose.PROFILING)
    objected = profiling is not None and profiling == (
        False,
        ConsentRecord.Source.OBJECTION,
    )
    return analytics and not objected


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


# --- measuring --------------------------------------------------------------------


@dataclass
class Measures:
    """One campaign's (or one partner's) results. Opens and clicks are known
    only for the `measured` people (who allowed it); their rates are of those."""

    name: str
    campaigns: int
    delivered: int
    measured: int
    opened: int
    clicked: int
    bookings: int
    bookers: int
    unsubscribed: int

    @staticmethod
    def _rate(part: int, whole: int) -> str:
        return f"{100 * part / whole:.0f}%" if whole else "none measured"

    @property
    def open_rate(self) -> str:
        return self._rate(self.opened, self.measured)

    @property
    def click_rate(self) -> str:
        return self._rate(self.clicked, self.measured)

    @property
    def unsubscribe_rate(self) -> str:
        return self._rate(self.unsubscribed, self.delivered)


def _attributed_bookings(campaign_ref, *, distinct_people: bool) -> Subquery:
    """Bookings made within CAMPAIGN_ATTRIBUTION_DAYS after the booker first
    opened or clicked the campaign `campaign_ref` names (an OuterRef)."""
    window = dt.timedelta(days=settings.CAMPAIGN_ATTRIBUTION_DAYS)
    engaged = Delivery.objects.filter(
        campaign=campaign_ref,
        person=OuterRef("person"),
        engaged_at__isnull=False,
        engaged_at__lte=OuterRef("created_at"),
        engaged_at__gte=OuterRef("created_at") - window,
    )
    counted = "person" if distinct_people else "pk"
    count = Func(
        F(counted), function="COUNT", template="COUNT(DISTINCT %(expressions)s)"
    )
    return Subquery(
        Booking.objects.filter(Exists(engaged))
        .order_by()
        .annotate(n=count)
        .values("n")[:1]
    )


def campaigns_measured(campaigns: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """`campaigns` with their results as annotations, in one query."""
    sent = Q(deliveries__status=Delivery.Status.SENT)
    return campaigns.annotate(
        m_delivered=Count("deliveries", filter=sent),
        m_measured=Count(
            "deliveries", filter=sent & Q(deliveries__track_code__isnull=False)
        ),
        m_opened=Count("deliveries", filter=Q(deliveries__opened_at__isnull=False)),
        m_clicked=Count("deliveries", filter=Q(deliveries__clicked_at__isnull=False)),
        m_unsubscribed=Count(
            "deliveries", filter=Q(deliveries__unsubscribed_at__isnull=False)
        ),
        # The campaign is two levels out: campaign > booking > delivery.
        m_bookings=_attributed_bookings(
            OuterRef(OuterRef("pk")), distinct_people=False
        ),
        m_bookers=_attributed_bookings(OuterRef(OuterRef("pk")), distinct_people=True),
    )


def _measures(name: str, rows: list[Campaign]) -> Measures:
    return Measures(
        name=name,
        campaigns=len(rows),
        **{
            key: sum(getattr(c, f"m_{key}") or 0 for c in rows)
            for key in (
                "delivered",
                "measured",
                "opened",
                "clicked",
                "bookings",
                "bookers",
                "unsubscribed",
            )
        },
    )


def campaign_measures(campaign: Campaign) -> Measures:
    row = campaigns_measured(Campaign.objects.filter(pk=campaign.pk)).get()
    return _measures(campaign.name, [row])


def measures_overview() -> tuple[list[tuple[Campaign, Measures]], list[Measures]]:
    """Every campaign we sent, newest first, with its results; and the
    partner offers' results added up per partner. Two queries."""
    rows = list(
        campaigns_measured(
            Campaign.objects.filter(
                channel__in=Campaign.SENT_CHANNELS,
                status__in=[
                    Campaign.Status.SENDING,
                    Campaign.Status.SENT,
                    Campaign.Status.STOPPED,
                ],
            )
        ).order_by("-started_at", "-pk")
    )
    per_partner: dict[str, list[Campaign]] = {}
    for c in rows:
        if c.is_partner_offer:
            per_partner.setdefault(c.partner_name.strip(), []).append(c)
    partners = [_measures(name, cs) for name, cs in sorted(per_partner.items())]
    return [(c, _measures(c.name, [c])) for c in rows], partners
