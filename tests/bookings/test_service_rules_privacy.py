"""Booking rules that touch personal data, as staff and the data protection lead
see them: the sweep that withdraws people erased or restricted (the reason
stored on each place, the count it reports), the attendee list sent to a
provider (who is on it, each disclosure recorded, the staff log) and the log of
the staff attendee export."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings import services
from bookings.models import Booking, MailRecord, StaffLog
from privacy.models import Disclosure
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def erased(person):
    type(person).objects.filter(pk=person.pk).update(
        erased_at=timezone.now(), email=f"erased-{person.pk}@erased.invalid"
    )
    person.refresh_from_db()
    return person


def restricted(person):
    type(person).objects.filter(pk=person.pk).update(processing_restricted=True)
    person.refresh_from_db()
    return person


# --- the sweep of people erased or restricted ---------------------------------


def test_the_sweep_says_why_each_place_was_withdrawn_and_counts_them_all():
    gone = BookingFactory.create(person=erased(UserFactory.create()))
    gone_too = BookingFactory.create(
        person=gone.person, status=Booking.Status.WAITLISTED
    )
    held = BookingFactory.create(person=restricted(UserFactory.create()))

    assert services.withdraw_erased_and_restricted() == 3

    for place in (gone, gone_too, held):
        place.refresh_from_db()
    assert [
        (p.status, p.cancel_reason, p.cancelled_by) for p in (gone, gone_too, held)
    ] == [
        ("cancelled", "Withdrawn: personal data erased", None),
        ("cancelled", "Withdrawn: personal data erased", None),
        ("cancelled", "Withdrawn: processing restricted", None),
    ]
    # No mail to anyone withdrawn: erasure and restriction are not news to send.
    assert not MailRecord.objects.filter(kind="cancelled").exists()
    assert services.withdraw_erased_and_restricted() == 0


def test_the_sweep_leaves_people_with_nothing_to_withdraw_alone():
    person = restricted(UserFactory.create())
    past = BookingFactory.create(
        person=person, session__starts_at=timezone.now() - timezone.timedelta(days=1)
    )
    BookingFactory.create(person=person, status=Booking.Status.CANCELLED)
    free = BookingFactory.create()  # not erased or restricted

    assert services.withdraw_erased_and_restricted() == 0
    past.refresh_from_db()
    free.refresh_from_db()
    assert (past.status, free.status) == ("confirmed", "confirmed")


# --- the attendee list for a provider -----------------------------------------


def test_the_provider_list_holds_people_with_a_place_and_records_each_disclosure():
    session = SessionFactory.create(course__provider__name="Westmoor Learning")
    confirmed = BookingFactory.create(session=session)
    came = BookingFactory.create(session=session, status=Booking.Status.ATTENDED)
    for status in ("offered", "waitlisted", "cancelled"):
        BookingFactory.create(session=session, status=status)
    staff = UserFactory.create(is_staff=True)

    listed = services.disclose_attendees_to_provider(session, by=staff)

    assert {b.pk for b in listed} == {confirmed.pk, came.pk}
    disclosures = {
        (d.person_id, d.recipient, d.fields, d.purpose, d.reference)
        for d in Disclosure.objects.all()
    }
    assert disclosures == {
        (
            b.person_id,
            "Westmoor Learning",
            "name, work email",
            f"Attendee list for {session}",
            f"booking:{b.pk}",
        )
        for b in (confirmed, came)
    }
    log = StaffLog.objects.get()
    assert (log.actor, log.action, log.session, log.booking, log.detail) == (
        staff,
        "exported attendee list for provider",
        session,
        None,
        "2 people to Westmoor Learning",
    )


def test_each_person_on_the_provider_list_costs_two_writes_and_no_reads():
    def queries_for(attendees):
        session = SessionFactory.create()
        BookingFactory.create_batch(attendees, session=session)
        staff = UserFactory.create(is_staff=True)
        with CaptureQueriesContext(connection) as queries:
            services.disclose_attendees_to_provider(session, by=staff)
        return len(queries)

    # A disclosure row and its audit row per person; people are read in the
    # one query that lists them, so a long list does not mean a query each.
    assert queries_for(3) - queries_for(1) == 4


def test_the_staff_attendee_export_is_logged_against_its_session():
    session = SessionFactory.create()
    staff = UserFactory.create(is_staff=True)
    services.log_staff_action(staff, "exported attendee list", session=session)
    log = StaffLog.objects.get()
    assert (log.actor, log.action, log.session, log.booking, log.detail) == (
        staff,
        "exported attendee list",
        session,
        None,
        "",
    )
