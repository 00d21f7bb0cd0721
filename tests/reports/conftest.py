"""A small known world for the reports, with figures worked out by hand.

Sessions in range (1 January to 30 June 2026):
- "Asthma update" (Northgate Training; topics Respiratory and Leadership),
  10 March: 6 attended, 2 did not attend, 1 cancelled, 1 on the waiting list.
- "Baby checks" (Westmoor University; topic Respiratory), 15 April: 3
  attended, 5 confirmed (not yet recorded).
Out of range: "Asthma update" on 1 December 2025, 4 attended.

The 9 people who attended in range: 6 women (4 of them born in 1990, in GP
practices in North Westmoor; 2 born in 1960, in schools in South Westmoor),
2 men (no year of birth, practice nurses in North Westmoor) and 1 with no
profile at all.

Funding, submitted in range, stream "Primary care CPD", round "Spring":
6 approved at £100 (each in a GP practice; 2 paid £100), 1 declined (£250,
a school), 1 under review (£80, a school). One approved request from 2025
is out of range.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts import roles
from accounts.models import Organisation, Profile
from bookings.models import Booking
from funding.models import FundingRequest, Payment
from tests.accounts.factories import OrganisationFactory, UserFactory
from tests.conftest import staff_client as shared_staff_client
from tests.courses.factories import (
    CourseFactory,
    ProviderFactory,
    SessionFactory,
    TopicFactory,
)
from tests.funding.factories import (
    FundingRequestFactory,
    FundingRoundFactory,
    FundingStreamFactory,
    cheap_people,
)

RANGE = {"from": "2026-01-01", "to": "2026-06-30"}


def at(day: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(f"{day} 10:00"))


def staff_client(group_name: str | None, *, perms=()) -> Client:
    """Staff in the role `group_name`, or (None) a learner with no role."""
    if group_name is not None:
        return shared_staff_client(group_name)
    user = UserFactory.create()
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def course_admin(db):
    return staff_client(roles.COURSE_ADMINS)


@pytest.fixture
def booking_admin(db):
    return staff_client(roles.BOOKING_ADMINS)


@pytest.fixture
def funding_officer(db):
    return staff_client(roles.FUNDING_OFFICERS)


@pytest.fixture
def dpo(db):
    return staff_client(roles.DATA_PROTECTION_LEAD)


@pytest.fixture
def learner(db):
    return staff_client(None)


def _book(session, people, status):
    Booking.objects.bulk_create(
        [Booking(person=p, session=session, status=status) for p in people]
    )


@pytest.fixture
def world(db):
    north = OrganisationFactory.create(
        name="Northgate Surgery", kind=Organisation.Kind.PRACTICE, area="North Westmoor"
    )
    school = OrganisationFactory.create(
        name="Southside Primary", kind=Organisation.Kind.SCHOOL, area="South Westmoor"
    )
    respiratory = TopicFactory.create(name="Respiratory", slug="respiratory")
    leadership = TopicFactory.create(name="Leadership", slug="leadership")
    asthma = CourseFactory.create(
        title="Asthma update",
        provider=ProviderFactory.create(name="Northgate Training"),
    )
    asthma.topics.set([respiratory, leadership])
    baby = CourseFactory.create(
        title="Baby checks",
        provider=ProviderFactory.create(name="Westmoor University"),
    )
    baby.topics.set([respiratory])
    a1 = SessionFactory.create(course=asthma, starts_at=at("2026-03-10"), capacity=20)
    b1 = SessionFactory.create(course=baby, starts_at=at("2026-04-15"), capacity=10)
    old = SessionFactory.create(course=asthma, starts_at=at("2025-12-01"))

    people = cheap_people(16)
    women_1990, women_1960, men, nobody = (
        people[:4],
        people[4:6],
        people[6:8],
        people[8],
    )
    for p in women_1990:
        Profile.objects.create(
            user=p,
            gender="woman",
            year_of_birth=1990,
            organisation=north,
            job_title="GP",
            ethnicity="white",
            disability="no",
        )
    for p in women_1960:
        Profile.objects.create(
            user=p,
            gender="woman",
            year_of_birth=1960,
            organisation=school,
            job_title="Teacher",
            ethnicity="asian",
            disability="yes",
        )
    for p in men:
        Profile.objects.create(
            user=p, gender="man", organisation=north, job_title="Practice nurse"
        )
    # In A1: 4 women 1990 + 2 men attended; in B1: 2 women 1960 + nobody.
    _book(a1, women_1990 + men, Booking.Status.ATTENDED)
    _book(a1, people[9:11], Booking.Status.NO_SHOW)
    _book(a1, [people[11]], Booking.Status.CANCELLED)
    _book(a1, [people[12]], Booking.Status.WAITLISTED)
    _book(b1, [*women_1960, nobody], Booking.Status.ATTENDED)
    _book(b1, [*people[9:14]], Booking.Status.CONFIRMED)
    _book(old, people[12:16], Booking.Status.ATTENDED)

    stream = FundingStreamFactory.create(name="Primary care CPD")
    spring = FundingRoundFactory.create(stream=stream, name="Spring")
    requests = []
    for k in range(6):
        requests.append(
            FundingRequestFactory.create(
                person=people[k],
                round=spring,
                cost=Decimal("100.00"),
                amount_approved=Decimal("100.00"),
                status="approved",
                submitted_at=at("2026-02-01"),
                organisation=north,
                course_name="Minor illness",
            )
        )
    FundingRequestFactory.create(
        person=people[6],
        round=spring,
        cost=Decimal("250.00"),
        status="declined",
        submitted_at=at("2026-02-02"),
        organisation=school,
        course_name="Coaching",
    )
    FundingRequestFactory.create(
        person=people[7],
        round=spring,
        cost=Decimal("80.00"),
        status="under_review",
        submitted_at=at("2026-02-03"),
        organisation=school,
        course_name="Coaching",
    )
    FundingRequestFactory.create(
        person=people[8],
        round=spring,
        cost=Decimal("999.00"),
        amount_approved=Decimal("999.00"),
        status="approved",
        submitted_at=at("2025-06-01"),
        organisation=north,
    )
    for r in requests[:2]:
        Payment.objects.create(
            request=r, amount=Decimal("100.00"), paid_on=dt.date(2026, 3, 1)
        )
    assert FundingRequest.objects.count() == 9
    return {"a1": a1, "b1": b1, "people": people}
