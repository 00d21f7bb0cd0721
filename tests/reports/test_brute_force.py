"""Each report's figures equal a brute-force count in Python over the same
randomly generated data (small, a few seeds). Suppression is switched off
(threshold 1) so every figure can be compared."""

import datetime as dt
import random
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Organisation, Profile
from bookings.models import Booking
from funding.models import FundingRequest, Payment
from reports import selectors
from tests.accounts.factories import OrganisationFactory
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

pytestmark = pytest.mark.django_db

START, END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
STATUSES = [s for s, _ in Booking.Status.choices]


def _random_world(rng: random.Random):
    orgs = [
        OrganisationFactory.create(
            kind=rng.choice(Organisation.Kind.values), area=rng.choice(["N", "S", ""])
        )
        for _ in range(4)
    ]
    topics = [TopicFactory.create() for _ in range(3)]
    providers = [ProviderFactory.create() for _ in range(3)]
    sessions = []
    for _ in range(5):
        course = CourseFactory.create(provider=rng.choice(providers))
        course.topics.set(rng.sample(topics, rng.randint(0, 2)))
        for _ in range(rng.randint(1, 3)):
            day = dt.date(2025, 12, 1) + dt.timedelta(days=rng.randint(0, 420))
            sessions.append(
                SessionFactory.create(
                    course=course,
                    starts_at=timezone.make_aware(
                        dt.datetime.combine(day, dt.time(10))
                    ),
                    capacity=rng.randint(5, 40),
                )
            )
    people = cheap_people(40)
    for p in people:
        if rng.random() < 0.8:
            Profile.objects.create(
                user=p,
                organisation=rng.choice([*orgs, None]),
                gender=rng.choice([*Profile.Gender.values, ""]),
                ethnicity=rng.choice([*Profile.Ethnicity.values, ""]),
                disability=rng.choice([*Profile.Disability.values, ""]),
                year_of_birth=rng.choice([None, *range(1950, 2005)]),
                year_of_birth_withheld=rng.random() < 0.1,
                job_title=rng.choice(["GP", "gp ", "Nurse", ""]),
            )
    Booking.objects.bulk_create(
        [
            Booking(person=p, session=s, status=rng.choice(STATUSES))
            for s in sessions
            for p in rng.sample(people, rng.randint(0, 20))
        ]
    )
    stream = FundingStreamFactory.create()
    rounds = [FundingRoundFactory.create(stream=stream) for _ in range(2)]
    for p in rng.sample(people, 15):
        approved = rng.random() < 0.5
        cost = Decimal(rng.randint(50, 900))
        request = FundingRequestFactory.create(
            person=p,
            round=rng.choice([*rounds, None]),
            provider=rng.choice([*providers, None]),
            provider_name=rng.choice(["Uni A", ""]),
            organisation=rng.choice([*orgs, None]),
            cost=cost,
            status="approved" if approved else rng.choice(FundingRequest.Status.values),
            amount_approved=cost if approved else None,
            submitted_at=dt.datetime(
                2026, rng.randint(1, 12), rng.randint(1, 28), 9, tzinfo=dt.UTC
            ),
        )
        if approved and rng.random() < 0.5:
            Payment.objects.create(request=request, amount=cost, paid_on=START)


def _in_range(moment) -> bool:
    return START <= timezone.localtime(moment).date() <= END


@pytest.fixture(params=[1, 2, 3])
def rng(request, settings):
    settings.REPORT_SUPPRESSION_THRESHOLD = 1
    rng = random.Random(request.param)
    _random_world(rng)
    return rng


def test_bookings_by_every_grouping_match_a_count_in_python(rng):
    bookings = [
        b
        for b in Booking.objects.select_related("session__course__provider")
        if _in_range(b.session.starts_at) and b.status != "waitlisted"
    ]
    columns = {
        "attended": 0,
        "no_show": 1,
        "confirmed": 2,
        "offered": 2,
        "awaiting_approval": 2,
        "cancelled": 3,
    }
    for by in selectors.BOOKING_GROUPS:
        expected = defaultdict(lambda: [0, 0, 0, 0])
        for b in bookings:
            course = b.session.course
            if by == "course":
                keys = [course.title]
            elif by == "provider":
                keys = [course.provider.name]
            elif by == "topic":
                keys = [t.name for t in course.topics.all()] or ["No topic"]
            else:
                keys = [timezone.localtime(b.session.starts_at).strftime("%B %Y")]
            for key in keys:
                expected[key][columns[b.status]] += 1
        table = selectors.bookings_table(start=START, end=END, by=by)
        got = {r[0]: r[1:5] for r in table.rows}
        assert got == dict(expected), by
        for r in table.rows:
            assert r[5] == sum(r[1:5])
        if table.totals:
            assert table.totals[1:5] == [
                sum(v[k] for v in expected.values()) for k in range(4)
            ]


def test_funding_by_every_grouping_matches_a_count_in_python(rng):
    requests = [
        r
        for r in FundingRequest.objects.select_related(
            "round__stream", "provider", "organisation"
        ).prefetch_related("payments")
        if r.submitted_at and _in_range(r.submitted_at)
    ]
    kinds = dict(Organisation.Kind.choices)
    for by in selectors.FUNDING_GROUPS:
        expected = defaultdict(lambda: [0, 0, 0, Decimal(0), Decimal(0), Decimal(0)])
        for r in requests:
            key = {
                "stream": r.round.stream.name if r.round else "No funding stream",
                "round": str(r.round) if r.round else "No round",
                "provider": (r.provider.name if r.provider else r.provider_name)
                or "Not given",
                "course": r.course_name,
                "organisation_kind": str(kinds[r.organisation.kind])
                if r.organisation
                else "Not given",
                "area": (r.organisation.area if r.organisation else "") or "Not given",
            }[by]
            row = expected[key]
            if r.amount_approved is not None:
                row[0] += 1
            elif r.status in ("declined", "not_supported"):
                row[1] += 1
            else:
                row[2] += 1
            row[3] += r.cost
            row[4] += r.amount_approved or 0
            row[5] += sum((p.amount for p in r.payments.all()), Decimal(0))
        table = selectors.funding_table(start=START, end=END, by=by)
        got = {r[0]: [*r[1:4], *r[5:8]] for r in table.rows}
        assert got == dict(expected), by


def test_workforce_by_every_field_matches_a_count_in_python(rng):
    attended = {
        b.person
        for b in Booking.objects.select_related(
            "session", "person__profile__organisation"
        )
        if b.status == "attended" and _in_range(b.session.starts_at)
    }

    def profile(person):
        try:
            return person.profile
        except Profile.DoesNotExist:
            return None

    def age_band(p):
        if p is None or (p.year_of_birth is None and not p.year_of_birth_withheld):
            return "Not given"
        if p.year_of_birth_withheld:
            return "Prefer not to say"
        age = END.year - p.year_of_birth
        for _key, label, low, high in selectors.AGE_BANDS:
            if age >= low and (high is None or age < high):
                return label
        return "Not given"

    labels = {
        "gender": dict(Profile.Gender.choices),
        "ethnicity": dict(Profile.Ethnicity.choices),
        "disability": dict(Profile.Disability.choices),
        "organisation_kind": dict(Organisation.Kind.choices),
    }
    for by in selectors.WORKFORCE_GROUPS:
        expected = Counter()
        for person in attended:
            p = profile(person)
            if by == "age_band":
                key = age_band(p)
            elif by == "job_role":
                key = (p.job_title.strip().lower() if p else "") or "Not given"
            elif by == "area":
                key = (p.organisation.area if p and p.organisation else "") or (
                    "Not given"
                )
            elif by == "organisation_kind":
                kind = p.organisation.kind if p and p.organisation else ""
                key = str(labels[by][kind]) if kind else "Not given"
            else:
                value = getattr(p, by) if p else ""
                key = str(labels[by][value]) if value else "Not given"
            expected[key] += 1
        table = selectors.workforce_table(start=START, end=END, by=by)
        got = {
            (
                r[0].strip().lower()
                if by == "job_role" and r[0] != "Not given"
                else r[0]
            ): r[1]
            for r in table.rows
            if r[1]
        }
        assert got == dict(expected), by
        assert table.totals[1] == len(attended)
