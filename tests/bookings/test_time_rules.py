"""Time matters: nothing that follows a session (attendance, no-show, a
certificate, CPD hours, an evaluation) can be recorded before it starts."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from accounts import roles
from bookings import services
from bookings.models import Booking, Evaluation, StaffLog
from tests.accounts.factories import UserFactory
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


@pytest.fixture
def superuser_client():
    return _client(UserFactory.create(is_staff=True, is_superuser=True))


def test_register_refuses_attendance_before_the_session_starts(booking_admin):
    session = SessionFactory.create(starts_at=timezone.now() + dt.timedelta(hours=1))
    came, absent = BookingFactory.create_batch(2, session=session)
    page = booking_admin.get(f"/staff/sessions/{session.pk}/").content.decode()
    assert "Attendance can be recorded once the session starts" in page
    assert 'name="attended"' not in page
    assert "Save attendance" not in page
    response = booking_admin.post(
        f"/staff/sessions/{session.pk}/", {"attended": [came.pk]}, follow=True
    )
    assert response.status_code == 200
    assert "cannot be recorded before the session starts" in response.content.decode()
    for booking in (came, absent):
        booking.refresh_from_db()
        assert (booking.status, booking.certificate_code) == ("confirmed", None)
    assert not StaffLog.objects.filter(action__startswith="marked").exists()
    # The learner sees no certificate, no CPD hours and no evaluation prompt.
    learner = Client()
    learner.force_login(came.person)
    record = learner.get("/training-record/").content.decode()
    assert session.course.title not in record
    assert f"/bookings/{came.pk}/evaluate/" not in record


def test_attendance_can_be_recorded_and_corrected_once_the_session_has_started(
    booking_admin,
):
    session = SessionFactory.create(starts_at=timezone.now() + dt.timedelta(hours=1))
    came, absent = BookingFactory.create_batch(2, session=session)
    session.starts_at = timezone.now() - dt.timedelta(minutes=1)
    session.save(update_fields=["starts_at"])
    page = booking_admin.get(f"/staff/sessions/{session.pk}/").content.decode()
    assert "Save attendance" in page
    booking_admin.post(f"/staff/sessions/{session.pk}/", {"attended": [came.pk]})
    came.refresh_from_db()
    absent.refresh_from_db()
    assert (came.status, absent.status) == ("attended", "no_show")
    assert came.certificate_code
    # Staff correct it afterwards: the other way round.
    booking_admin.post(f"/staff/sessions/{session.pk}/", {"attended": [absent.pk]})
    came.refresh_from_db()
    absent.refresh_from_db()
    assert (came.status, absent.status) == ("no_show", "attended")


@pytest.mark.parametrize("attended", [True, False])
def test_mark_attendance_refuses_a_session_not_yet_started_and_changes_nothing(
    attended,
):
    started = SessionFactory.create(starts_at=timezone.now() - dt.timedelta(hours=1))
    upcoming = SessionFactory.create(starts_at=timezone.now() + dt.timedelta(days=1))
    past_place = BookingFactory.create(session=started)
    future_place = BookingFactory.create(session=upcoming)
    staff = UserFactory.create(is_staff=True)
    with pytest.raises(
        services.BookingError, match="cannot be recorded before the session starts"
    ):
        services.mark_attendance(
            [past_place, future_place], attended=attended, by=staff
        )
    # All or nothing: the started session's place is unchanged too.
    assert set(Booking.objects.values_list("status", flat=True)) == {"confirmed"}
    assert not Booking.objects.exclude(certificate_code=None).exists()


@pytest.mark.parametrize("action", ["mark_attended", "mark_no_show"])
def test_admin_actions_refuse_attendance_before_the_session_starts(
    superuser_client, action
):
    booking = BookingFactory.create(
        session__starts_at=timezone.now() + dt.timedelta(hours=3)
    )
    response = superuser_client.post(
        "/admin/bookings/booking/",
        {"action": action, "_selected_action": [booking.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "cannot be recorded before the session starts" in response.content.decode()
    booking.refresh_from_db()
    assert (booking.status, booking.certificate_code) == ("confirmed", None)


def test_an_evaluation_is_refused_before_the_session_starts():
    # Attendance recorded early (before this rule, or by a faulty import).
    booking = BookingFactory.create(
        status="attended", session__starts_at=timezone.now() + dt.timedelta(days=2)
    )
    with pytest.raises(services.BookingError, match="once the session has started"):
        services.submit_evaluation(booking, rating=5, comments="")
    assert not Evaluation.objects.exists()
    learner = Client()
    learner.force_login(booking.person)
    response = learner.post(
        f"/bookings/{booking.pk}/evaluate/", {"rating": "5"}, follow=True
    )
    assert response.status_code == 200
    assert "once the session has started" in response.content.decode()
    assert not Evaluation.objects.exists()
