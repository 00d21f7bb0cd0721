"""The claim itself: per person, released when the form is shown again, safe
under a real double click (two requests at once), and expired by retention."""

import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import FormSubmission
from bookings import services as booking_services
from bookings.models import Booking, MailRecord
from config.idempotency import FIELD, new_token
from funding.models import FundingRequest
from privacy import services as privacy_services
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory

from .test_every_post_form import signed_in, verified_person

pytestmark = pytest.mark.django_db


def test_each_render_of_a_form_carries_a_new_token(learner_client):
    first = learner_client.get("/funding/new/").content.decode()
    second = learner_client.get("/funding/new/").content.decode()
    pick = lambda html: html.split(f'name="{FIELD}" value="')[1].split('"')[0]  # noqa: E731
    assert pick(first) != pick(second)


def test_staff_email_outbox_keys_come_from_the_form_token(
    django_capture_on_commit_callbacks,
):
    booking = BookingFactory.create(status="attended")
    staff = UserFactory.create(is_staff=True)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            booking_services.email_attendees(
                booking.session,
                staff,
                attended=True,
                subject="Slides",
                body="Attached.",
                request_key="7-sametoken",
            )
    assert MailRecord.objects.count() == 1
    assert [m.to for m in mail.outbox] == [[booking.person.email]]


def test_an_invalid_form_releases_the_token_so_the_corrected_form_is_saved(
    learner_client,
):
    token = new_token()
    response = learner_client.post("/funding/new/", {FIELD: token})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert not FormSubmission.objects.exists()
    response = learner_client.post(
        "/funding/new/",
        {FIELD: token, "course_name": "Advanced Clinical Practice", "later": "1"},
    )
    assert FundingRequest.objects.count() == 1
    assert response["Location"] == "/funding/"


def test_a_token_is_claimed_per_person():
    token = new_token()
    for _ in range(2):
        signed_in(verified_person()).post(
            "/funding/new/", {FIELD: token, "course_name": "ACP", "later": "1"}
        )
    assert FundingRequest.objects.count() == 2


def test_booking_twice_without_a_token_is_still_refused():
    person = verified_person()
    client = signed_in(person)
    session = SessionFactory.create()
    client.post(f"/sessions/{session.pk}/book/")
    again = client.post(f"/sessions/{session.pk}/book/", follow=True)
    assert "You already have a booking for this session." in again.content.decode()
    assert Booking.objects.filter(person=person).count() == 1


def test_a_new_render_of_the_book_button_after_cancelling_books_again():
    person = verified_person()
    client = signed_in(person)
    session = SessionFactory.create()
    client.post(f"/sessions/{session.pk}/book/", {FIELD: new_token()})
    booking = Booking.objects.get(person=person)
    client.post(f"/bookings/{booking.pk}/cancel/", {FIELD: new_token()})
    client.post(f"/sessions/{session.pk}/book/", {FIELD: new_token()})
    assert Booking.objects.filter(person=person, status="confirmed").count() == 1


def test_retention_removes_old_claims_and_keeps_recent_ones(settings):
    settings.IDEMPOTENCY_TOKEN_HOURS = 24
    person = UserFactory.create()
    old = FormSubmission.objects.create(user=person, token=new_token(), path="/a/")
    FormSubmission.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=25)
    )
    recent = FormSubmission.objects.create(user=person, token=new_token(), path="/b/")
    counts = privacy_services.apply_retention()
    assert counts["form submission tokens"] == 1
    assert list(FormSubmission.objects.all()) == [recent]


def test_erasure_deletes_a_persons_claims():
    person = UserFactory.create()
    FormSubmission.objects.create(user=person, token=new_token(), path="/a/")
    privacy_services.erase_person(person)
    assert not FormSubmission.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_posts_at_once_with_one_token_save_one_request():
    person = verified_person()
    token = new_token()
    barrier = threading.Barrier(2)
    locations = []

    def double_click():
        client = Client()
        client.force_login(person)
        barrier.wait()
        try:
            response = client.post(
                "/funding/new/", {FIELD: token, "course_name": "ACP", "later": "1"}
            )
            locations.append(response["Location"])
        finally:
            connection.close()

    threads = [threading.Thread(target=double_click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert FundingRequest.objects.count() == 1
    assert locations == ["/funding/"] * 2


def test_mail_queued_by_a_staff_form_is_keyed_on_that_forms_token():
    from accounts import roles

    from .test_every_post_form import staff

    booking = BookingFactory.create(status="attended")
    later = SessionFactory.create(
        course=booking.session.course,
        starts_at=booking.session.starts_at + dt.timedelta(days=7),
    )
    client = staff(roles.BOOKING_ADMINS)
    email_token, move_token = new_token(), new_token()
    client.post(
        f"/staff/sessions/{booking.session_id}/email/",
        {FIELD: email_token, "audience": "attended", "subject": "S", "body": "B"},
    )
    Booking.objects.filter(pk=booking.pk).update(status="confirmed")
    client.post(
        f"/staff/bookings/{booking.pk}/move/",
        {FIELD: move_token, "to_session": str(later.pk)},
    )
    keys = set(MailRecord.objects.values_list("key", flat=True))
    me = client.user.pk
    assert f"staff:{me}-{email_token}:{booking.pk}" in keys
    assert f"booking:{booking.pk}:moved:{later.pk}:{me}-{move_token}" in keys
