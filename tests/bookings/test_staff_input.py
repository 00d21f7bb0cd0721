"""Staff pages and admin read what staff send them exactly: odd numbers get a
clear message, never a 500, and what staff chose is what is saved."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from accounts import roles
from bookings.models import Booking, Transaction
from tests.accounts.factories import OrganisationFactory, UserFactory, member_of
from tests.bookings.factories import BookingFactory
from tests.conftest import give_totp
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    give_totp(user)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def booking_admin():
    user = UserFactory.create(is_staff=True)
    user.groups.add(Group.objects.get(name=roles.BOOKING_ADMINS))
    return _client(user)


@pytest.mark.parametrize("raw", ["²", "①", "٣", "-1", " 3", "9" * 30, ""])
def test_register_ignores_attended_ids_that_are_not_plain_numbers(booking_admin, raw):
    session = SessionFactory.create(starts_at=timezone.now() - dt.timedelta(hours=1))
    came, absent = BookingFactory.create_batch(2, session=session)
    response = booking_admin.post(
        f"/staff/sessions/{session.pk}/",
        {"attended": [str(came.pk), raw]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Attendance saved." in response.content.decode()
    came.refresh_from_db()
    absent.refresh_from_db()
    assert (came.status, absent.status) == ("attended", "no_show")


@pytest.mark.parametrize("raw", ["²", "①", "٣", "-1", "0", "9" * 30, "", "abc"])
def test_moving_to_a_session_that_is_not_a_plain_number_shows_a_message(
    booking_admin, raw
):
    booking = BookingFactory.create()
    SessionFactory.create(course=booking.session.course)  # somewhere it could go
    before = booking.session_id
    response = booking_admin.post(
        f"/staff/bookings/{booking.pk}/move/", {"to_session": raw}, follow=True
    )
    assert response.status_code == 200
    assert "Choose the session to move the booking to." in response.content.decode()
    booking.refresh_from_db()
    assert booking.session_id == before


def test_a_place_booked_in_admin_is_charged_to_the_chosen_organisation():
    admin = _client(UserFactory.create(is_staff=True, is_superuser=True))
    org = OrganisationFactory.create(pays_on_account=True)
    session = SessionFactory.create(course__price=Decimal("60"))
    caller = UserFactory.create()
    member_of(caller, org)
    response = admin.post(
        "/admin/bookings/booking/add/",
        {"person": caller.pk, "session": session.pk, "organisation": org.pk},
    )
    assert response.status_code == 302
    booking = Booking.objects.get(person=caller)
    assert booking.organisation == org
    charge = Transaction.objects.get(booking=booking)
    assert (charge.kind, charge.amount, charge.organisation, charge.person) == (
        "charge",
        Decimal("60.00"),
        org,
        caller,
    )
