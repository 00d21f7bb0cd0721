"""Erasure and restriction withdraw a person from everything still to come, and
nothing is ever queued or sent to an erased address."""

from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from bookings import services
from bookings.models import Booking, MailRecord
from config import outbox
from courses.models import Provider
from funding.models import FundingMail
from privacy import services as privacy_services
from tests.accounts.factories import UserFactory
from tests.courses.factories import SessionFactory


def verified(**kwargs):
    person = UserFactory.create(**kwargs)
    EmailAddress.objects.create(
        user=person, email=person.email, verified=True, primary=True
    )
    return person


def full_session_with(holder, waiting):
    session = SessionFactory.create(
        capacity=1,
        course__price=Decimal("40"),
        course__provider__kind=Provider.Kind.THIRD_PARTY,
        course__provider__shares_attendee_details=True,
        course__provider__contact_email="provider@example.org",
    )
    services.book_session(holder, session)
    for person in waiting:
        services.book_session(person, session)
    return session


def sent_to(address):
    return [m for m in mail.outbox if address in m.to]


@pytest.mark.django_db
def test_erasure_gives_the_freed_place_to_the_next_real_person_and_mails_nobody_erased(
    django_capture_on_commit_callbacks,
):
    holder, waiting_erased, next_real = verified(), verified(), verified()
    session = full_session_with(holder, [waiting_erased, next_real])
    held = SessionFactory.create(capacity=5)
    services.book_session(waiting_erased, held)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        privacy_services.erase_person(waiting_erased)
    waiting_erased.refresh_from_db()
    erased_address = waiting_erased.email
    assert erased_address.endswith("@erased.invalid")
    assert not Booking.objects.filter(person=waiting_erased).live().exists()
    assert sent_to(erased_address) == []

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_booking(Booking.objects.get(person=holder), holder)
    promoted = Booking.objects.get(session=session, person=next_real)
    assert promoted.status == "confirmed"
    subjects = {m.subject for m in mail.outbox}
    assert any(s.startswith("A place has come free") for s in subjects)
    assert [m.to for m in mail.outbox if m.subject.startswith("A place")] == [
        [next_real.email]
    ]
    assert [m.to for m in mail.outbox if m.subject.startswith("New attendee")] == [
        ["provider@example.org"]
    ]
    assert sent_to(erased_address) == []
    assert not MailRecord.objects.filter(to=erased_address).exists()


@pytest.mark.django_db
def test_erasing_a_confirmed_person_promotes_the_first_waiting_and_refunds():
    holder, waiting = verified(), verified()
    session = full_session_with(holder, [waiting])
    privacy_services.erase_person(holder)
    assert Booking.objects.get(session=session, person=waiting).status == "confirmed"
    withdrawn = Booking.objects.get(session=session, person=holder)
    assert withdrawn.status == "cancelled"
    assert sum(t.amount for t in withdrawn.transactions.all()) == 0


@pytest.mark.django_db
def test_a_place_never_goes_to_someone_erased_before_withdrawal_existed():
    holder, legacy, real = verified(), verified(), verified()
    session = full_session_with(holder, [legacy, real])
    # An erasure from before withdrawal: the waiting-list row was left live.
    legacy.erased_at = legacy.date_joined
    legacy.email = f"erased-{legacy.pk}@erased.invalid"
    legacy.save()
    services.cancel_booking(Booking.objects.get(person=holder), holder)
    assert Booking.objects.get(session=session, person=real).status == "confirmed"
    assert Booking.objects.get(session=session, person=legacy).status == "waitlisted"


@pytest.mark.django_db
def test_the_offer_sweep_withdraws_places_left_with_erased_and_restricted_people(
    django_capture_on_commit_callbacks,
):
    holder, legacy, restricted, real = verified(), verified(), verified(), verified()
    first = full_session_with(holder, [legacy, real])
    second = full_session_with(restricted, [real])
    # Left from before erasure and restriction withdrew people.
    legacy.erased_at = legacy.date_joined
    legacy.email = f"erased-{legacy.pk}@erased.invalid"
    legacy.save()
    type(restricted).objects.filter(pk=restricted.pk).update(processing_restricted=True)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        from bookings import tasks

        tasks.expire_offers()
    assert Booking.objects.get(session=first, person=legacy).status == "cancelled"
    assert Booking.objects.get(session=second, person=restricted).status == (
        "cancelled"
    )
    # The place the restricted person held goes to the next real person.
    assert Booking.objects.get(session=second, person=real).status == "confirmed"
    assert sent_to(legacy.email) == []
    assert sent_to(restricted.email) == []
    assert services.withdraw_erased_and_restricted() == 0  # nothing left to do


@pytest.mark.django_db
def test_restriction_withdraws_future_places_tells_the_person_and_refuses_new_ones(
    django_capture_on_commit_callbacks,
):
    holder, waiting = verified(), verified()
    session = full_session_with(holder, [waiting])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        privacy_services.restrict_processing(holder, by=None)
    assert Booking.objects.get(session=session, person=holder).status == "cancelled"
    assert Booking.objects.get(session=session, person=waiting).status == "confirmed"
    assert [m.subject for m in sent_to(holder.email)] == [
        f"Booking cancelled: {session.course.title}"
    ]
    with pytest.raises(services.BookingError, match="restricted"):
        services.book_session(holder, SessionFactory.create())
    staff = UserFactory.create(is_staff=True)
    with pytest.raises(services.BookingError, match="restricted"):
        services.book_session(holder, SessionFactory.create(), by=staff)
    privacy_services.lift_restriction(holder)
    assert services.book_session(holder, SessionFactory.create()).status == (
        "confirmed"
    )


@pytest.mark.django_db
def test_a_restricted_person_sees_why_they_cannot_book(client):
    person = verified()
    privacy_services.restrict_processing(person)
    session = SessionFactory.create()
    client.force_login(person)
    page = client.post(f"/sessions/{session.pk}/book/", follow=True)
    assert page.status_code == 200
    assert "You cannot book while the use of your data is restricted" in (
        page.content.decode()
    )
    assert not Booking.objects.filter(person=person).exists()


@pytest.mark.django_db
def test_the_outbox_refuses_to_write_an_erased_address():
    session = SessionFactory.create()
    assert (
        services.queue_mail(
            kind="minimum_alert",
            session=session,
            to="erased-7@erased.invalid",
            key="test:erased",
        )
        is None
    )
    erased = UserFactory.create()
    privacy_services.erase_person(erased)
    erased.refresh_from_db()
    assert outbox.refuses(erased.email)
    assert not MailRecord.objects.filter(key="test:erased").exists()


@pytest.mark.django_db
def test_mail_already_queued_for_an_erased_person_is_cancelled_not_sent():
    person = verified()
    session = SessionFactory.create()
    # Staff-type mail that is not linked to a booking, and a funding mail, both
    # still pending (the broker was down) when the person is erased.
    alert = MailRecord.objects.create(
        key="a", kind="minimum_alert", session=session, to=person.email.upper()
    )
    funding = FundingMail.objects.create(
        key="f", kind="status_changed", to=person.email, subject="s", body="b"
    )
    mail.outbox.clear()
    privacy_services.erase_person(person)
    assert services.send_mail_record(alert.pk) is False
    from funding.services import common

    assert common.send_mail_record(funding.pk) is False
    alert.refresh_from_db()
    funding.refresh_from_db()
    assert (alert.status, funding.status) == ("cancelled", "cancelled")
    assert person.email.lower() not in (alert.to + funding.to).lower()
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_row_written_to_an_erased_address_is_never_sent():
    session = SessionFactory.create()
    row = MailRecord.objects.create(
        key="x", kind="minimum_alert", session=session, to="erased-9@erased.invalid"
    )
    assert services.send_mail_record(row.pk) is False
    row.refresh_from_db()
    assert row.status == "cancelled"
    assert mail.outbox == []
