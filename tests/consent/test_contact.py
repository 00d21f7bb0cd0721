"""The contact page: each team's details as staff entered them, the settings'
fallback for a team without any, and links to it wherever a page promises
contact."""

import datetime as dt

import pytest
from django.utils import timezone

from consent.models import ContactPoint
from tests.bookings.factories import BookingFactory

pytestmark = pytest.mark.django_db


def test_every_team_is_on_the_page_with_staff_details_or_the_fallback(
    client, settings, django_assert_max_num_queries
):
    settings.CONTACT_EMAIL = "cpd@westmoor.example"
    ContactPoint.objects.create(
        team="funding",
        email="funding@westmoor.example",
        phone="0300 123 4567",
        hours="Monday to Friday, 9am to 5pm",
        address="Funding team\n1 High Street\nWestmoor WM1 1AA",
    )
    with django_assert_max_num_queries(3):
        page = client.get("/contact/")
    html = page.content.decode()
    assert page.status_code == 200
    for team in ("Booking team", "Funding team", "Data protection lead"):
        assert f">{team}</h2>" in html
    assert 'href="mailto:funding@westmoor.example"' in html
    assert "0300 123 4567<br>" in html
    assert "Funding team<br>1 High Street<br>Westmoor WM1 1AA" in html
    assert html.count('href="mailto:cpd@westmoor.example"') == 2
    assert 'id="data_protection"' in html


def test_pages_that_promise_contact_link_to_it(learner_client):
    # The footer of every page.
    assert 'href="/contact/">Contact us</a>' in learner_client.get("/").content.decode()
    notice = learner_client.get("/privacy/").content.decode()
    assert 'href="/contact/#data_protection">contact our data protection lead' in notice
    # A confirmed place after its session started cannot be cancelled online.
    booking = BookingFactory.create(person=learner_client.user, status="confirmed")
    booking.session.__class__.objects.filter(pk=booking.session.pk).update(
        starts_at=timezone.now() - dt.timedelta(hours=1),
        ends_at=timezone.now() + dt.timedelta(hours=1),
    )
    page = learner_client.get(f"/bookings/{booking.pk}/cancel/").content.decode()
    assert "can no longer be cancelled online" in page
    assert 'href="/contact/#booking">Contact the booking team</a>' in page
