"""The staff home (/staff/), the staff navigation and breadcrumbs on every
/staff/ page, and the links between the staff pages and Django admin."""

import datetime as dt
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts import roles
from bookings.models import Booking
from config import staff_nav
from courses.selectors import week_of
from tests.accounts.factories import UserFactory
from tests.conftest import staff_client
from tests.courses.factories import SessionFactory
from tests.funding.factories import FundingRequestFactory

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def nav_links(html: str) -> list[str]:
    nav = re.search(r'<nav aria-label="Menu".*?</nav>', html, re.S).group(0)
    return re.findall(
        r'class="govuk-service-navigation__link"[^>]*>(?:<strong[^>]*>)?([^<]+)<', nav
    )


def breadcrumbs(html: str) -> list[str]:
    found = re.search(r'<nav class="govuk-breadcrumbs".*?</nav>', html, re.S)
    if found is None:
        return []
    return re.findall(
        r'class="govuk-breadcrumbs__link" href="[^"]+">([^<]+)<', found.group(0)
    )


def test_sessions_this_week_run_monday_to_sunday_and_link_to_their_registers(
    django_assert_max_num_queries,
):
    client = staff_client(roles.BOOKING_ADMINS)
    monday, sunday = week_of(timezone.localdate())
    first = SessionFactory.create(
        course__title="First aid", starts_at=at(monday, 9), capacity=12
    )
    last = SessionFactory.create(course__title="Phonics", starts_at=at(sunday, 18))
    SessionFactory.create(
        course__title="Next week", starts_at=at(sunday + dt.timedelta(days=1), 9)
    )
    SessionFactory.create(
        course__title="Last week", starts_at=at(monday - dt.timedelta(days=1), 9)
    )
    for person in UserFactory.create_batch(3):
        Booking.objects.create(person=person, session=first, status="confirmed")
    Booking.objects.create(
        person=UserFactory.create(), session=first, status="waitlisted"
    )

    with django_assert_max_num_queries(10):
        html = client.get("/staff/").content.decode()

    assert '<h1 class="govuk-heading-l">Staff home</h1>' in html
    assert "Sessions this week" in html
    assert f'href="/staff/sessions/{first.pk}/"' in html
    assert f'href="/staff/sessions/{last.pk}/"' in html
    assert "3 of 12, 1 waiting" in html
    assert "Next week" not in html
    assert "Last week" not in html
    assert html.index("First aid") < html.index("Phonics")


def test_the_home_page_costs_the_same_queries_for_many_sessions(
    django_assert_max_num_queries,
):
    client = staff_client(roles.BOOKING_ADMINS)
    monday, _sunday = week_of(timezone.localdate())
    for n in range(25):
        session = SessionFactory.create(starts_at=at(monday, 8) + dt.timedelta(hours=n))
        Booking.objects.create(
            person=UserFactory.create(), session=session, status="confirmed"
        )
    with django_assert_max_num_queries(10):
        html = client.get("/staff/").content.decode()
    assert html.count('href="/staff/sessions/') == 25


def test_without_the_register_permission_sessions_are_listed_without_links():
    client = staff_client(roles.FUNDING_OFFICERS)
    monday, _sunday = week_of(timezone.localdate())
    session = SessionFactory.create(course__title="Spirometry", starts_at=at(monday, 9))
    html = client.get("/staff/").content.decode()
    assert "Spirometry" in html
    assert f'href="/staff/sessions/{session.pk}/"' not in html


def test_learners_are_refused_the_staff_home(client, verified_user):
    client.force_login(verified_user)
    assert client.get("/staff/").status_code == 403


def test_the_staff_navigation_shows_only_what_the_person_may_open():
    client = staff_client(roles.FUNDING_OFFICERS)
    request = FundingRequestFactory.create(status="under_review")
    html = client.get(f"/staff/funding/{request.pk}/").content.decode()
    links = nav_links(html)
    assert links[:1] == ["Staff home"]
    assert "Funding requests" in links
    assert "Applications" in links
    assert "Back office" in links
    assert "Sign out" in links
    assert "Processing record" not in links
    assert "Analytics" not in links
    # The learner's navigation is not shown on staff pages.
    assert "My bookings" not in links
    assert breadcrumbs(html) == ["Staff home", "Funding requests"]
    # The section the page belongs to is marked as the current one.
    assert re.search(
        r'govuk-service-navigation__item--active">\s*<a [^>]*aria-current="true"'
        r"[^>]*><strong[^>]*>Funding requests<",
        html,
    )


def test_a_register_and_its_pages_have_breadcrumbs_back_up():
    client = staff_client(roles.BOOKING_ADMINS)
    session = SessionFactory.create()
    register = client.get(f"/staff/sessions/{session.pk}/").content.decode()
    assert breadcrumbs(register) == ["Staff home"]
    email = client.get(f"/staff/sessions/{session.pk}/email/").content.decode()
    assert breadcrumbs(email) == ["Staff home", "Register"]
    assert (
        f'class="govuk-breadcrumbs__link" href="/staff/sessions/{session.pk}/"' in email
    )


def test_the_superuser_sees_every_staff_section():
    client = staff_client()
    client.user.is_superuser = True
    client.user.save()
    html = client.get("/staff/").content.decode()
    assert nav_links(html) == [
        *(section.label for section in staff_nav.SECTIONS),
        "Sign out",
    ]


def test_learner_pages_keep_the_learners_navigation():
    client = staff_client(roles.FUNDING_OFFICERS)
    html = client.get("/bookings/").content.decode()
    assert "My bookings" in nav_links(html)
    assert breadcrumbs(html) == []


def _staff_url_names(resolver=None, namespace=()):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = (*namespace, entry.namespace) if entry.namespace else namespace
            yield from _staff_url_names(entry, ns)
        elif isinstance(entry, URLPattern) and str(entry.pattern).startswith("staff/"):
            yield ":".join((*namespace, entry.name))


def test_every_staff_url_has_breadcrumbs_or_is_not_a_page():
    names = set(_staff_url_names())
    assert "bookings:staff_home" in names
    missing = names - set(staff_nav.PARENTS) - staff_nav.NOT_PAGES
    assert not missing, f"add to config/staff_nav.py PARENTS or NOT_PAGES: {missing}"
    assert not (set(staff_nav.PARENTS) | staff_nav.NOT_PAGES) - names


def test_admin_links_to_the_staff_pages_and_back():
    client = staff_client(roles.BOOKING_ADMINS)
    html = client.get("/admin/").content.decode()
    assert '<a href="/staff/">Staff home</a>' in html
    staff_pages = re.search(r'id="staff-pages".*?</div>', html, re.S).group(0)
    assert 'href="/staff/"' in staff_pages
    assert 'href="/admin/courses/session/"' in staff_pages
    assert "/staff/funding/" not in staff_pages
    # Every admin page's header links to the staff home.
    page = client.get("/admin/courses/session/").content.decode()
    assert '<a href="/staff/">Staff home</a>' in page


@pytest.mark.django_db
def test_every_staff_navigation_permission_exists():
    # A renamed or removed permission would hide its section from everyone
    # silently (the application merge renamed one); each must be a real row.
    from django.contrib.auth.models import Permission

    from config.staff_nav import SECTIONS

    for section in SECTIONS:
        for name in section.permissions:
            app_label, codename = name.split(".")
            # Of a model that still exists: a renamed model leaves its old
            # permission rows behind until stale content types are removed.
            found = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).select_related("content_type")
            assert any(p.content_type.model_class() for p in found), (
                f"{section.label}: no permission {name} of a current model"
            )
