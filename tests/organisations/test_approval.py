"""Approval of members' bookings, end to end through the pages, the outbox and
the periodic task: the learner books, the place is held, each approver is
mailed once with a link, the approver approves or declines from it, and a place
nobody answers for is released to the waiting list by the offers sweep."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from bookings import services, tasks
from bookings.models import Booking, MailRecord, StaffLog, Transaction
from tests.accounts.factories import OrganisationFactory, member_of, verified_person
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def client_for(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.fixture
def school():
    org = OrganisationFactory.create(
        name="Hillside Primary", bookings_need_approval=True, approval_hold_days=3
    )
    head = verified_person(first_name="Ada", last_name="Head")
    deputy = verified_person(first_name="Dev", last_name="Deputy")
    member_of(head, org, is_approver=True)
    member_of(deputy, org, is_approver=True)
    teacher = verified_person(first_name="Tom", last_name="Teacher")
    member_of(teacher, org)
    return org, head, deputy, teacher


def mails_to(address):
    return [m for m in mail.outbox if m.to == [address]]


def test_a_members_booking_is_held_and_each_approver_mailed_once(
    school, django_capture_on_commit_callbacks
):
    org, head, deputy, teacher = school
    session = SessionFactory.create(capacity=1, course__title="Phonics")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(teacher).post(
            f"/sessions/{session.pk}/book/", {"confirm": "yes"}
        )
    assert response.status_code == 302
    booking = Booking.objects.get(person=teacher)
    assert booking.status == "awaiting_approval"
    assert booking.approval_organisation == org
    expected = timezone.now() + dt.timedelta(days=3)
    assert abs((booking.approval_expires_at - expected).total_seconds()) < 60
    # The place is held: the next person joins the waiting list.
    other = verified_person()
    assert services.book_session(other, session).status == "waitlisted"

    assert next(m.subject for m in mails_to(teacher.email)) == (
        "Your place is held awaiting approval: Phonics"
    )
    for approver in (head, deputy):
        (request,) = mails_to(approver.email)
        assert request.subject.startswith("Please approve a booking: Phonics")
        assert "Tom Teacher from Hillside Primary" in request.body
        assert (
            f"http://testserver/organisation/{org.pk}/approvals/{booking.pk}/"
            in request.body
        )
    # The sweep and a second run of the task send the approvers nothing again.
    services.send_pending_mail(older_than_seconds=0)
    tasks.send_pending_mail(older_than_seconds=0)
    assert len(mails_to(head.email)) == len(mails_to(deputy.email)) == 1
    assert (
        MailRecord.objects.filter(booking=booking, kind="approval_request").count() == 2
    )


def test_approver_approves_from_the_link_in_the_mail(
    school, django_capture_on_commit_callbacks
):
    org, head, _deputy, teacher = school
    org.pays_on_account = True
    org.save()
    session = SessionFactory.create(capacity=3, course__price=Decimal("45"))
    with django_capture_on_commit_callbacks(execute=True):
        client_for(teacher).post(
            f"/sessions/{session.pk}/book/",
            {"charge_to": "organisation", "confirm": "yes"},
        )
    booking = Booking.objects.get(person=teacher)
    # Nothing is charged while the place only waits for approval.
    assert not Transaction.objects.exists()
    (request,) = mails_to(head.email)
    link = re.search(r"http://testserver(/organisation/\S+)", request.body)[1]

    approver = client_for(head)
    page = approver.get(link)
    assert page.status_code == 200
    assert "Tom Teacher" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = approver.post(link, {"decision": "approve"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.approved_by) == ("confirmed", head)
    charge = Transaction.objects.get()
    assert (charge.organisation, charge.amount) == (org, Decimal("45.00"))
    (approved,) = [m for m in mails_to(teacher.email) if "approved" in m.subject]
    assert approved.subject.startswith("Booking approved and confirmed")
    assert StaffLog.objects.filter(
        actor=head, action="approved booking", booking=booking
    ).exists()
    # Approving again changes nothing and says why.
    again = approver.post(link, {"decision": "approve"}, follow=True)
    assert "This booking is not awaiting approval." in again.content.decode()
    assert Transaction.objects.count() == 1


def test_decline_releases_the_place_to_the_waiting_list(
    school, django_capture_on_commit_callbacks
):
    org, _head, deputy, teacher = school
    session = SessionFactory.create(capacity=1)
    booking = services.book_session(teacher, session)
    waiting = verified_person()
    services.book_session(waiting, session)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(deputy).post(
            f"/organisation/{org.pk}/approvals/{booking.pk}/",
            {"decision": "decline", "reason": "Cover is short that week"},
        )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by) == ("cancelled", deputy)
    assert Booking.objects.get(person=waiting).status == "confirmed"
    (declined,) = [m for m in mails_to(teacher.email) if "not approved" in m.subject]
    assert "Cover is short that week" in declined.body


def test_a_place_nobody_approves_is_released_by_the_periodic_task(
    school, django_capture_on_commit_callbacks
):
    org, head, _deputy, teacher = school
    session = SessionFactory.create(capacity=1)
    booking = services.book_session(teacher, session)
    waiting = verified_person()
    services.book_session(waiting, session)
    # Not yet: the task leaves a place whose time has not come.
    assert tasks.expire_offers() == 0
    Booking.objects.filter(pk=booking.pk).update(
        approval_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.expire_offers() == 1
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == (
        "cancelled",
        "Not approved in time",
    )
    assert Booking.objects.get(person=waiting).status == "confirmed"
    (expired,) = [m for m in mails_to(teacher.email) if "in time" in m.subject]
    assert expired.subject.startswith("Booking not approved in time")
    # Safe to run twice: nothing more happens and nobody is mailed again.
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.expire_offers() == 0
    assert len(mail.outbox) == sent
    # An approver arriving late is told it is too late.
    late = client_for(head).post(
        f"/organisation/{org.pk}/approvals/{booking.pk}/",
        {"decision": "approve"},
        follow=True,
    )
    assert "This booking is not awaiting approval." in late.content.decode()


def test_a_promoted_member_still_needs_approval(school):
    _org, _head, _deputy, teacher = school
    session = SessionFactory.create(capacity=1)
    first = services.book_session(verified_person(), session)
    waiting = services.book_session(teacher, session)
    assert waiting.status == "waitlisted"
    services.cancel_booking(first, by=first.person)
    waiting.refresh_from_db()
    assert waiting.status == "awaiting_approval"
    assert (
        MailRecord.objects.filter(booking=waiting, kind="approval_request").count() == 2
    )


def test_no_approval_when_the_organisations_booker_books(school):
    org, _head, _deputy, teacher = school
    booker = verified_person()
    member_of(booker, org, is_booker=True)
    session = SessionFactory.create(capacity=5)
    (result,) = services.book_members(session, [teacher], by=booker, organisation=org)
    assert result[1].status == "confirmed"


def test_no_approval_for_an_unconfirmed_member_or_when_not_required(school):
    org, _head, _deputy, teacher = school
    session = SessionFactory.create(capacity=5)
    newcomer = verified_person()
    member_of(newcomer, org, confirmed=False)
    assert services.book_session(newcomer, session).status == "confirmed"
    org.bookings_need_approval = False
    org.save()
    assert services.book_session(teacher, session).status == "confirmed"


@pytest.mark.parametrize("who", ["teacher", "booker", "other_approver", "staff"])
def test_only_an_approver_of_the_organisation_may_decide(school, who):
    org, _head, _deputy, teacher = school
    session = SessionFactory.create(capacity=5)
    booking = services.book_session(teacher, session)
    other_org = OrganisationFactory.create()
    people = {
        "teacher": teacher,
        "booker": member_of(verified_person(), org, is_booker=True).person,
        "other_approver": member_of(
            verified_person(), other_org, is_approver=True
        ).person,
        "staff": verified_person(is_staff=True, is_superuser=True),
    }
    with pytest.raises(services.BookingError):
        services.approve_booking(booking, by=people[who])
    with pytest.raises(services.BookingError):
        services.decline_booking(booking, by=people[who])
    booking.refresh_from_db()
    assert booking.status == "awaiting_approval"


def test_an_approvers_own_booking_is_not_sent_to_themselves(school):
    _org, head, deputy, _teacher = school
    session = SessionFactory.create(capacity=5)
    booking = services.book_session(head, session)
    assert booking.status == "awaiting_approval"
    assert list(
        MailRecord.objects.filter(booking=booking, kind="approval_request").values_list(
            "to", flat=True
        )
    ) == [deputy.email]
    with pytest.raises(services.BookingError, match="your own booking"):
        services.approve_booking(booking, by=head)
    services.approve_booking(booking, by=deputy)


def test_the_learner_sees_the_held_place_and_can_cancel_it(school):
    _org, _head, _deputy, teacher = school
    session = SessionFactory.create(capacity=1)
    booking = services.book_session(teacher, session)
    client = client_for(teacher)
    page = client.get("/bookings/").content.decode()
    assert "Awaiting approval" in page
    assert "while Hillside Primary approves it" in page
    client.post(f"/bookings/{booking.pk}/cancel/", {"reason": ""})
    booking.refresh_from_db()
    assert booking.status == "cancelled"
