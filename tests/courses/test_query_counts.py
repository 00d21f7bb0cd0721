"""Every busy page runs the same number of queries whatever the size of the
data (issue 15): each page is asked for with the data at one size, then again
after more courses, sessions, bookings, people and funding requests are added
(some of them the viewer's own), and must run exactly as many queries as the
first time. A page whose count grows with the rows (a query per row, a count
per course) fails here long before it is slow in production.

The bound under each count is the page's budget (django_assert_max_num_queries),
so a change that adds a query to a page has to say so here.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import roles
from bookings.models import Booking, PriorLearning, Transaction
from consent.models import ConsentRecord
from courses.models import Course
from funding.models import FundingRequest
from privacy.models import Disclosure
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp
from tests.courses.factories import CourseFactory, SessionFactory, TopicFactory
from tests.funding.factories import FundingRequestFactory, cheap_people

pytestmark = pytest.mark.django_db


class World:
    """The data, grown a step at a time; `learner` and `viewed` stay the same."""

    def __init__(self):
        self.topic = TopicFactory.create(name="Safeguarding", slug="safeguarding")
        self.learner = UserFactory.create()
        self.viewed = self._course("Safeguarding children level 3")
        self.register = self.viewed.sessions.order_by("pk").first()
        self.steps = 0

    def _course(self, title: str) -> Course:
        n = Course.objects.count()
        course = CourseFactory.create(
            title=title,
            slug=f"query-count-{n}",
            price=Decimal("0") if n % 2 else Decimal("25"),
            topics=[self.topic],
        )
        now = timezone.now()
        for days in (-20, 7 + n % 5, 30 + n % 7):
            SessionFactory.create(
                course=course,
                starts_at=now + dt.timedelta(days=days),
                ends_at=now + dt.timedelta(days=days, hours=3),
                capacity=4,
            )
        return course

    def grow(self, n: int) -> None:
        """n more of everything: courses with past and future sessions, people
        booked on them, the learner's own bookings, past training, prior
        learning (imported), transactions, choices and disclosures, bookings on the
        register's session, funding requests."""
        self.steps += 1
        for i in range(n):
            course = self._course(f"Safeguarding adults step {self.steps}.{i}")
            past, soon, later = course.sessions.order_by("starts_at")
            people = cheap_people(3)
            Booking.objects.bulk_create(
                [
                    Booking(person=people[0], session=soon),
                    Booking(person=people[1], session=soon),
                    Booking(person=people[2], session=later),
                    Booking(person=people[0], session=past, status="attended"),
                    Booking(person=people[1], session=self.register),
                    Booking(person=self.learner, session=soon),
                    Booking(person=self.learner, session=past, status="attended"),
                ]
            )
            Transaction.objects.create(
                person=self.learner,
                kind="charge",
                amount=Decimal("25"),
                description=f"Charge {self.steps}.{i}",
            )
            ConsentRecord.objects.create(
                person=self.learner,
                purpose="marketing",
                channel="email",
                granted=bool(i % 2),
                source="preferences",
            )
            Disclosure.objects.create(
                person=self.learner,
                recipient=course.provider.name,
                fields="name, email",
                purpose="running the session",
            )
            PriorLearning.objects.create(
                person=self.learner,
                title=f"Course elsewhere {i}",
                completed_on=timezone.localdate() - dt.timedelta(days=40 + i),
                cpd_hours=Decimal("2"),
                import_source="Westmoor HR list",
                imported_at=timezone.now(),
            )
            FundingRequestFactory.create(
                person=people[2],
                status=FundingRequest.Status.UNDER_REVIEW,
                submitted_at=timezone.now() - dt.timedelta(days=i),
            )


def signed_in(user, group: str | None = None) -> Client:
    if group:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.groups.add(Group.objects.get(name=group))
        give_totp(user)
    client = Client()
    client.force_login(user)
    return client


def queries(client: Client, url: str) -> int:
    """How many queries `url` runs with a cold cache (and checks it is a page)."""
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


# (page, who asks, its query budget)
PAGES = [
    ("/", "anonymous", 1),
    # A cold catalogue page: the moment (refresh_next_sessions), the topics
    # and providers to choose from (two; cached for every search after), the
    # page, its courses' topics, its places left and the count. A search or
    # facet filter reads its matches from CourseSearch and then its courses:
    # one more, but one sorted in full (ranked, by title, or within dates)
    # takes its count from its first matches.
    ("/courses/", "anonymous", 7),
    ("/courses/?page=2&per_page=10", "anonymous", 7),
    ("/courses/?sort=title&page=2&per_page=10", "anonymous", 7),
    ("/courses/?q=safeguarding+adults&free=1&available=1", "anonymous", 7),
    ("/courses/?topic=safeguarding&mode=in_person&sort=soonest", "anonymous", 8),
    ("/courses/?q=safeguarding&sort=relevance&page=2&per_page=10", "learner", 8),
    ("/courses/{course}/", "anonymous", 3),
    # No permission queries: has_perm is asked only about unpublished courses.
    ("/courses/{course}/", "learner", 9),
    ("/bookings/", "learner", 6),
    ("/training-record/", "learner", 8),
    # The page of entries (their running totals summed in it) and the balances.
    ("/transactions/", "learner", 5),
    # Its lists and one grouped query per category that records imports.
    ("/my-data/", "learner", 10),
    ("/preferences/", "learner", 5),
    ("/staff/sessions/{session}/", "booking admin", 10),
    ("/staff/funding/", "funding officer", 11),
]


@pytest.mark.parametrize(("path", "who", "budget"), PAGES)
def test_a_pages_query_count_does_not_grow_with_the_data(
    path, who, budget, django_assert_max_num_queries
):
    world = World()
    client = {
        "anonymous": lambda: Client(),
        "learner": lambda: signed_in(world.learner),
        "booking admin": lambda: signed_in(UserFactory.create(), roles.BOOKING_ADMINS),
        "funding officer": lambda: signed_in(
            UserFactory.create(), roles.FUNDING_OFFICERS
        ),
    }[who]()
    url = path.format(course=world.viewed.slug, session=world.register.pk)

    client.get(url)  # a first visit records things once (the sign-in, say)
    world.grow(3)
    small = queries(client, url)
    world.grow(12)
    with django_assert_max_num_queries(budget):
        large = queries(client, url)

    assert large == small, f"{url} as {who}: {small} queries, then {large}"


@pytest.mark.parametrize("status", [Course.Status.DRAFT, Course.Status.ARCHIVED])
def test_only_course_administrators_see_an_unpublished_courses_page(status):
    """The permission is no longer asked on every course page, only on an
    unpublished one's: others still find no such course."""
    course = CourseFactory.create(title="Not ready yet", status=status)
    SessionFactory.create(course=course)
    url = f"/courses/{course.slug}/"

    assert Client().get(url).status_code == 404
    assert signed_in(UserFactory.create()).get(url).status_code == 404
    booking_admin = signed_in(UserFactory.create(), roles.BOOKING_ADMINS)
    assert booking_admin.get(url).status_code == 404
    page = signed_in(UserFactory.create(), roles.COURSE_ADMINS).get(url)
    assert page.status_code == 200
    assert "Not ready yet" in page.content.decode()


def test_a_catalogue_past_the_count_cap_says_more_than_and_pages_up_to_it(
    monkeypatch,
):
    """The total is counted up to a cap (its cost would grow with the
    catalogue): past it the page says "More than", and offers pages up to it."""
    from courses import selectors

    monkeypatch.setattr(selectors, "CATALOGUE_COUNT_CAP", 4)
    World().grow(5)  # 6 courses with upcoming sessions

    page = Client().get("/courses/?per_page=10").content.decode()
    assert "More than 4 courses found" in page
    assert "The first 4 are shown. Search or choose filters" in page

    cache.clear()
    narrowed = Client().get("/courses/?free=1").content.decode()
    assert "3 courses found" in narrowed
    assert "More than" not in narrowed
