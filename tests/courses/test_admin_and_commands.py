import re
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from bookings.models import Booking
from courses import services
from courses.models import Course, Provider, Session, Topic
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp
from tests.courses.factories import CourseFactory, SessionFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    give_totp(admin)
    client.force_login(admin)
    return client


def test_session_changelist_counts_in_the_query(
    admin_client, django_assert_max_num_queries
):
    sessions = SessionFactory.create_batch(20, capacity=5)
    people = UserFactory.create_batch(3)
    Booking.objects.create(person=people[0], session=sessions[0], status="confirmed")
    Booking.objects.create(person=people[1], session=sessions[0], status="confirmed")
    Booking.objects.create(person=people[2], session=sessions[0], status="waitlisted")
    with django_assert_max_num_queries(14):
        response = admin_client.get("/admin/courses/session/?o=-5")
    assert response.status_code == 200
    row = response.context["cl"].result_list[0]
    assert (row.confirmed_count, row.waiting_count, row.places_left) == (2, 1, 3)


def test_duplicate_publish_and_archive_actions(admin_client):
    topic = TopicFactory.create()
    course = CourseFactory.create(topics=[topic], status=Course.Status.PUBLISHED)
    admin_client.post(
        "/admin/courses/course/",
        {"action": "duplicate", "_selected_action": [course.pk]},
    )
    copy = Course.objects.exclude(pk=course.pk).get()
    assert copy.status == Course.Status.DRAFT
    assert list(copy.topics.all()) == [topic]
    admin_client.post(
        "/admin/courses/course/", {"action": "publish", "_selected_action": [copy.pk]}
    )
    copy.refresh_from_db()
    assert copy.status == Course.Status.PUBLISHED
    admin_client.post(
        "/admin/courses/course/", {"action": "archive", "_selected_action": [copy.pk]}
    )
    copy.refresh_from_db()
    assert copy.status == Course.Status.ARCHIVED


def test_add_another_session_like_this(admin_client):
    session = SessionFactory.create(
        capacity=17,
        venue="Hall",
        venue_address="1 High Street",
        accessibility_notes="Step-free",
        parking_notes="Mill Lane",
    )
    admin_client.post(
        "/admin/courses/session/",
        {"action": "add_like_this", "_selected_action": [session.pk]},
    )
    new = Session.objects.exclude(pk=session.pk).get()
    assert new.course == session.course
    assert (new.capacity, new.venue) == (17, "Hall")
    assert (new.venue_address, new.accessibility_notes, new.parking_notes) == (
        "1 High Street",
        "Step-free",
        "Mill Lane",
    )
    assert (new.starts_at - session.starts_at).days == 7
    assert new.ends_at - new.starts_at == session.ends_at - session.starts_at


def test_course_admin_filters_and_search(admin_client):
    SessionFactory.create(course__title="Findable course")
    for query in (
        "?upcoming=yes",
        "?upcoming=no",
        "?status__exact=published",
        "?q=Findable",
    ):
        assert admin_client.get(f"/admin/courses/course/{query}").status_code == 200
    assert (
        "Findable course"
        in admin_client.get("/admin/courses/course/?q=Findable").content.decode()
    )


def test_seed_demo_is_realistic_and_idempotent():
    call_command("seed_demo", verbosity=0)
    counts = (
        Course.objects.count(),
        Session.objects.count(),
        Topic.objects.count(),
        Provider.objects.count(),
    )
    assert Course.objects.filter(status="published").count() >= 40
    assert Topic.objects.count() >= 8
    assert set(Provider.objects.values_list("kind", flat=True)) == set(
        Provider.Kind.values
    )
    assert Session.objects.count() >= 150
    assert Course.objects.filter(price=0).exists()
    assert Course.objects.filter(price__gt=0).exists()
    assert set(Course.objects.values_list("mode", flat=True)) == set(Course.Mode.values)
    call_command("seed_demo", verbosity=0)
    assert counts == (
        Course.objects.count(),
        Session.objects.count(),
        Topic.objects.count(),
        Provider.objects.count(),
    )


def test_seed_demo_gives_every_page_something_and_twice_adds_nothing():
    from courses.selectors import sessions_in_week
    from funding.models import Application, FundingRequest

    out = StringIO()
    call_command("seed_demo", stdout=out)
    printed = out.getvalue()
    # Every demo login is printed with its role, the funding officer's too.
    assert re.search(r"funding@example\.com\s+Funding officers", printed)
    assert re.search(r"bookings@example\.com\s+Booking administrators", printed)
    statuses = set(FundingRequest.objects.values_list("status", flat=True))
    assert statuses == set(FundingRequest.Status.values)
    assert set(Application.objects.values_list("status", flat=True)) == (
        set(Application.Status.values)
    )
    now = timezone.now()
    attended = Booking.objects.filter(status="attended", session__starts_at__lt=now)
    assert attended.exclude(certificate_code="").exists()
    assert Booking.objects.filter(status="no_show").exists()
    assert attended.filter(person__email="learner@example.com").exists()
    assert Booking.objects.filter(
        status="confirmed", session__starts_at__gt=now
    ).exists()
    assert Booking.objects.filter(status="waitlisted").count() >= 2
    assert sessions_in_week(day=timezone.localdate()).exists()

    def counts():
        return {
            model.__name__: model.objects.count()
            for model in apps.get_models()
            if model._meta.app_label
            in ("accounts", "bookings", "courses", "funding", "products")
        }

    before = counts()
    call_command("seed_demo", verbosity=0, stdout=StringIO())
    assert counts() == before


def test_generate_catalogue_makes_a_searchable_catalogue():
    call_command("generate_catalogue", courses=30, sessions_per_course=2, verbosity=0)
    assert Course.objects.count() == 30
    assert Session.objects.count() == 60
    assert Course.objects.filter(search_vector__isnull=False).count() == 30


def test_reindex_covers_topics_added_later():
    course = SessionFactory.create(course__title="Plain").course
    course.topics.add(TopicFactory.create(name="Oracy"))
    services.reindex_courses([course.pk])
    from django.test import Client

    assert "Plain" in Client().get("/courses/?q=oracy").content.decode()


def test_session_status_is_not_edited_in_admin_and_links_to_the_register(admin_client):
    session = SessionFactory.create()
    html = admin_client.get("/admin/courses/session/").content.decode()
    assert f'href="/staff/sessions/{session.pk}/"' in html
    page = admin_client.get(
        f"/admin/courses/session/{session.pk}/change/"
    ).content.decode()
    assert 'name="status"' not in page  # cancelling goes through the register page
