"""The catalogue is served from the cache, and the cache is never behind:
a change announced with catalogue_changed() shows on the next request, a
session that starts drops out when it starts, and nothing about one visitor
is ever shown to another."""

import datetime as dt
import time

import pytest
from django.contrib import messages
from django.db import transaction
from django.urls import path
from django.utils import timezone

from bookings.models import Booking
from config.urls import urlpatterns as app_urlpatterns
from courses import selectors, services, views
from courses.models import Course, Session
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp
from tests.courses.factories import (
    CourseFactory,
    ProviderFactory,
    SessionFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


def _catalogue_with_a_message(request):
    messages.success(request, "Your search was saved, Ada")
    return views.course_list_view(request)


# Used by the test that marks itself with pytest.mark.urls(__name__).
urlpatterns = [
    path("with-a-message/", _catalogue_with_a_message),
    *app_urlpatterns,
]


@pytest.fixture
def staff_client():
    from django.test import Client

    admin = UserFactory.create(is_staff=True, is_superuser=True)
    give_totp(admin)
    staff = Client()
    staff.force_login(admin)
    return staff


def page(client, url="/courses/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_places_left_change_as_soon_as_the_catalogue_is_marked_changed(client):
    session = SessionFactory.create(course__title="Phonics", capacity=3)
    assert "3 places left" in page(client)

    Booking.objects.create(
        person=UserFactory.create(), session=session, status="confirmed"
    )
    # The page really is cached: without the announcement it is unchanged ...
    assert "3 places left" in page(client)
    services.catalogue_changed()
    # ... and with it, the very next request has the new figure.
    html = page(client)
    assert "2 places left" in html
    assert "3 places left" not in html

    Booking.objects.create(
        person=UserFactory.create(), session=session, status="confirmed"
    )
    Booking.objects.create(
        person=UserFactory.create(), session=session, status="confirmed"
    )
    services.catalogue_changed()
    assert "full, join the waiting list" in page(client)
    assert page(client, "/courses/?available=on").count("app-card") == 0


def test_archive_and_publish_in_admin_show_at_once(client, staff_client):
    course = SessionFactory.create(course__title="Oracy in the classroom").course
    assert "Oracy in the classroom" in page(client)

    staff_client.post(
        "/admin/courses/course/",
        {"action": "archive", "_selected_action": [course.pk]},
    )
    assert "Oracy in the classroom" not in page(client)

    staff_client.post(
        "/admin/courses/course/",
        {"action": "publish", "_selected_action": [course.pk]},
    )
    assert "Oracy in the classroom" in page(client)


def test_a_new_session_and_a_draft_copy_from_admin_show_at_once(client, staff_client):
    session = SessionFactory.create(course__title="Spirometry", capacity=1)
    Booking.objects.create(
        person=UserFactory.create(), session=session, status="confirmed"
    )
    assert "Spirometry" not in page(client, "/courses/?available=on")

    staff_client.post(
        "/admin/courses/session/",
        {"action": "add_like_this", "_selected_action": [session.pk]},
    )
    assert "Spirometry" in page(client, "/courses/?available=on")

    staff_client.post(
        "/admin/courses/course/",
        {"action": "duplicate", "_selected_action": [session.course_id]},
    )
    copy = Course.objects.get(title="Spirometry (copy)")
    assert copy.status == Course.Status.DRAFT
    assert "Spirometry (copy)" not in page(client)
    staff_client.post(
        "/admin/courses/course/", {"action": "publish", "_selected_action": [copy.pk]}
    )
    # Published, but with no sessions yet: still not in the catalogue.
    assert "Spirometry (copy)" not in page(client)


def test_saving_a_session_in_admin_shows_at_once(client, staff_client):
    session = SessionFactory.create(course__title="Asthma reviews", capacity=8)
    assert "8 places left" in page(client)
    starts = timezone.localtime(session.starts_at)
    ends = timezone.localtime(session.ends_at)
    response = staff_client.post(
        f"/admin/courses/session/{session.pk}/change/",
        {
            "course": session.course_id,
            "starts_at_0": f"{starts:%Y-%m-%d}",
            "starts_at_1": f"{starts:%H:%M:%S}",
            "ends_at_0": f"{ends:%Y-%m-%d}",
            "ends_at_1": f"{ends:%H:%M:%S}",
            "capacity": 12,
            "venue": session.venue,
            "status": Session.Status.SCHEDULED,
            "minimum_attendees": 0,
            # The ring-fenced places inline, left empty.
            "reservations-TOTAL_FORMS": 0,
            "reservations-INITIAL_FORMS": 0,
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert "12 places left" in page(client)


def test_provider_and_topic_changes_in_admin_reach_search_at_once(client, staff_client):
    topic = TopicFactory.create(name="Numeracy", slug="numeracy")
    session = SessionFactory.create(
        course__title="Times tables", course__topics=[topic]
    )
    services.reindex_courses()
    assert "Times tables" in page(client, "/courses/?q=numeracy")
    assert "Times tables" not in page(client, "/courses/?q=arithmetic")

    response = staff_client.post(
        f"/admin/courses/topic/{topic.pk}/change/",
        {"name": "Arithmetic", "slug": "numeracy", "_save": "Save"},
    )
    assert response.status_code == 302
    assert "Times tables" in page(client, "/courses/?q=arithmetic")
    assert "Times tables" not in page(client, "/courses/?q=numeracy")
    # The filter's choices too (cached with the catalogue).
    assert ">Arithmetic</option>" in page(client, "/courses/?q=times")

    provider = session.course.provider
    response = staff_client.post(
        f"/admin/courses/provider/{provider.pk}/change/",
        {"name": "Northfield College", "kind": provider.kind, "_save": "Save"},
    )
    assert response.status_code == 302
    html = page(client)
    assert "Northfield College" in html
    assert ">Northfield College</option>" in html


@pytest.mark.parametrize("url", ["/courses/", "/"])  # the home page too
def test_a_session_drops_out_when_it_starts_not_a_minute_later(client, url):
    starts = timezone.now() + dt.timedelta(seconds=1.5)
    SessionFactory.create(course__title="Starting any moment", starts_at=starts)
    SessionFactory.create(course__title="Next week")
    assert "Starting any moment" in page(client, url)
    time.sleep(max(0.0, (starts - timezone.now()).total_seconds()) + 0.1)
    html = page(client, url)
    assert "Starting any moment" not in html
    assert "Next week" in html


def test_signed_in_navigation_is_never_served_to_someone_else(learner_client):
    from django.test import Client

    SessionFactory.create(course__title="Behaviour")
    anonymous = page(Client())
    assert "Sign in" in anonymous
    signed_in = page(learner_client)  # the content from the cache
    assert "Behaviour" in signed_in
    assert "Sign out" in signed_in
    assert "My bookings" in signed_in
    anonymous = page(Client())
    assert "Sign in" in anonymous
    assert "Sign out" not in anonymous
    assert "My bookings" not in anonymous


@pytest.mark.urls(__name__)
def test_messages_are_shown_only_to_whom_they_are_for(client):
    from django.test import Client

    SessionFactory.create(course__title="Coaching")
    assert "Coaching" in page(client)
    html = page(client, "/with-a-message/")  # the same content, from the cache
    assert "Coaching" in html
    assert "Your search was saved, Ada" in html
    assert "Your search was saved, Ada" not in page(Client())
    assert "Your search was saved, Ada" not in page(client)  # shown once


def main(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def test_parameters_the_catalogue_does_not_read_share_one_cached_page(client):
    SessionFactory.create_batch(12)
    first = main(page(client, "/courses/?per_page=10&utm_source=newsletter"))
    assert "per_page=10&amp;page=2" in first
    assert "utm_source" not in first
    assert main(page(client, "/courses/?q=&topic=&per_page=10&x=1")) == first


def test_catalogue_changed_in_a_transaction_marks_it_again_after_commit(
    django_capture_on_commit_callbacks,
):
    before = services.catalogue_version()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.catalogue_changed()
        during = services.catalogue_version()
    after = services.catalogue_version()
    # A page rendered between the two from the data before the commit is
    # kept under `during`, which is never current again.
    assert before < during < after


def test_the_catalogue_works_without_the_cache(client, monkeypatch):
    SessionFactory.create(course__title="Governance", capacity=5)

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    for name in ("get", "get_many", "set", "add", "incr"):
        monkeypatch.setattr(services.cache, name, down)
    services.catalogue_changed()  # logs, never raises
    assert "5 places left" in page(client)


def test_the_page_shows_the_first_session_in_the_date_range(client):
    now = timezone.now()
    course = CourseFactory.create(title="Finance for governors")
    SessionFactory.create(course=course, starts_at=now + dt.timedelta(days=3))
    later = SessionFactory.create(
        course=course, starts_at=now + dt.timedelta(days=20), capacity=7
    )
    # Two sessions at the same time: the course is still listed once.
    SessionFactory.create(course=course, starts_at=later.starts_at, capacity=9)
    day = timezone.localdate(later.starts_at)
    rows = selectors.with_next_places_left(
        selectors.courses_for_catalogue(
            selectors.CatalogueFilters(date_from=day - dt.timedelta(days=1))
        )
    )
    assert [(c.pk, c.next_starts_at, c.next_places_left) for c in rows] == [
        (course.pk, later.starts_at, 7)
    ]
    assert "7 places left" in page(client, f"/courses/?from={day:%Y-%m-%d}")


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"q": "safeguarding"},
        {"q": "safeguarding", "available": True, "sort": "title"},
        {"free": True},
        {"available": True},
        {"date_from": 5, "date_to": 12},
        {"mode": Course.Mode.LIVE_ONLINE, "sort": "soonest"},
        {"topic": True, "provider": True},
    ],
)
def test_the_count_matches_the_rows(filters, django_assert_num_queries):
    now = timezone.now()
    topic, provider = TopicFactory.create(), ProviderFactory.create()
    for i in range(12):
        course = CourseFactory.create(
            title=f"Safeguarding {i}" if i % 2 else f"Maths {i}",
            price=0 if i % 3 else 10,
            mode=Course.Mode.LIVE_ONLINE if i % 4 else Course.Mode.IN_PERSON,
            status=Course.Status.PUBLISHED if i != 5 else Course.Status.DRAFT,
            provider=provider if i % 5 else ProviderFactory.create(),
            topics=[topic] if i % 2 else [],
        )
        for day in (i, i + 6):
            SessionFactory.create(
                course=course,
                starts_at=now + dt.timedelta(days=day, hours=1) - dt.timedelta(days=1),
                capacity=1,
            )
        if i % 3 == 0:
            Booking.objects.create(
                person=UserFactory.create(),
                session=course.sessions.order_by("starts_at").last(),
                status="confirmed",
            )
    services.reindex_courses()
    today = timezone.localdate()
    f = selectors.CatalogueFilters(
        q=filters.get("q", ""),
        topic=topic if filters.get("topic") else None,
        provider=provider if filters.get("provider") else None,
        mode=filters.get("mode", ""),
        free=filters.get("free", False),
        available=filters.get("available", False),
        sort=filters.get("sort", ""),
        date_from=today + dt.timedelta(days=filters["date_from"])
        if "date_from" in filters
        else None,
        date_to=today + dt.timedelta(days=filters["date_to"])
        if "date_to" in filters
        else None,
    )
    listing = selectors.courses_for_catalogue(f, now=now)
    # The courses and their topics; a search or facet filter read from
    # CourseSearch (selectors._reads_course_search) reads its matches first.
    searched = isinstance(listing, selectors.CoursesByIds)
    with django_assert_num_queries(3 if searched else 2):
        rows = list(listing)
    with django_assert_num_queries(1):
        count = selectors.courses_for_catalogue_count(f, now=now)
    assert count == len(rows) == len({c.pk for c in rows})
    if searched:  # its own count (from its first matches, when sorted in full)
        assert listing.count() == count
    assert count > 0


def test_whole_page_cache_gives_each_visitor_their_own_token_and_address(db):
    from django.test import Client

    from tests.courses.factories import SessionFactory

    SessionFactory.create(course__title="Shared page")
    first, second = Client(), Client()
    one = first.get("/courses/?utm_source=mail").content.decode()
    two = second.get("/courses/?utm_source=other").content.decode()
    assert "Shared page" in one
    assert "Shared page" in two
    token_one = first.cookies["csrftoken"].value
    token_two = second.cookies["csrftoken"].value
    assert token_one != token_two
    assert 'value="/courses/?utm_source=mail"' in one
    assert 'value="/courses/?utm_source=other"' in two
    assert "slot-7d2f0c9e" not in one + two
    # The banner's form works with the token each visitor was given.
    csrf_client = Client(enforce_csrf_checks=True)
    page = csrf_client.get("/courses/").content.decode()
    import re

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = csrf_client.post(
        "/cookies/", {"analytics": "reject", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


@pytest.mark.parametrize("where", ["/", "/courses/", "course"])
def test_a_cached_page_sets_a_csrf_cookie_only_where_it_has_the_banners_form(db, where):
    """The per-visitor values are put in only where the page has a place for
    them: after a cookie choice there is no banner, so no form and no CSRF
    cookie, whether the page is rendered or served from the cache. Every
    page kept whole (`views._whole_page`): home, catalogue, course."""
    from django.test import Client

    from tests.courses.factories import SessionFactory

    session = SessionFactory.create(course__title="Shared page")
    address = f"/courses/{session.course.slug}/" if where == "course" else where
    for _ in range(2):  # rendered, then from the cache
        chosen = Client()
        chosen.cookies["cookie_choice"] = "rejected"
        response = chosen.get(address)
        html = response.content.decode()
        assert "Shared page" in html
        assert "Accept analytics cookies" not in html
        assert "csrftoken" not in response.cookies
        assert "slot-7d2f0c9e" not in html
        response = Client().get(address)
        html = response.content.decode()
        assert "Accept analytics cookies" in html
        token = response.cookies["csrftoken"].value
        assert len(token) == 32
        assert "slot-7d2f0c9e" not in html


def test_whole_page_cache_is_not_used_for_signed_in_people_or_pending_messages(db):
    from django.contrib.messages import constants
    from django.test import Client

    from tests.accounts.factories import UserFactory
    from tests.courses.factories import SessionFactory

    SessionFactory.create()
    Client().get("/courses/")  # fills the whole-page cache
    person = UserFactory.create(first_name="Visible")
    client = Client()
    client.force_login(person)
    html = client.get("/courses/").content.decode()
    assert "Sign out" in html
    assert "Create an account" not in html
    anon = Client()
    anon.post("/cookies/", {"analytics": "maybe"})  # leaves an error message
    assert constants.ERROR
    html = anon.get("/courses/").content.decode()
    assert "Choose whether to accept analytics cookies." in html


def test_nothing_is_served_from_a_process_copy_while_the_cache_cannot_be_read(
    client, request
):
    """Each process keeps the parts it used last, but only while Redis says
    they are still current: with Redis down every page is built afresh."""

    session = SessionFactory.create(course__title="Phonics", capacity=3)
    assert "3 places left" in page(client)  # kept in Redis and in this process
    request.getfixturevalue("redis_down")
    for left in ("2 places left", "1 place left"):
        Booking.objects.create(
            person=UserFactory.create(), session=session, status="confirmed"
        )
        services.catalogue_changed()  # cannot reach Redis: no new version
        # The first request opens the breaker; after it the cache is silent.
        html = page(client)
        assert left in html
        assert "3 places left" not in html
