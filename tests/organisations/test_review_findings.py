"""What an outside review of the organisation features found, each as the
behaviour a user must see now: held places end with their session, membership
and restriction; bookers never put a debt on a member; approvers act only while
the place can still be given; pages count only what a member may take."""

import datetime as dt
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Membership
from bookings import services, tasks
from bookings.models import Booking, MailRecord, Transaction
from courses.models import Course, Reservation
from privacy.services import restrict_processing
from tests.accounts.factories import (
    OrganisationFactory,
    UserFactory,
    member_of,
    verified_person,
)
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def client_for(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.fixture
def org():
    org = OrganisationFactory.create(
        name="Hillside Primary", bookings_need_approval=True, pays_on_account=True
    )
    org.head = member_of(
        verified_person(), org, is_approver=True, is_booker=True
    ).person
    org.teacher = member_of(verified_person(first_name="Tom"), org).person
    return org


def test_cancelling_a_session_ends_places_held_for_approval(org):
    session = SessionFactory.create(capacity=2, course__price=Decimal("40"))
    held = services.book_session(org.teacher, session, organisation=org)
    assert held.status == "awaiting_approval"
    told = services.cancel_session(session, verified_person(is_staff=True))
    assert told == 1
    held.refresh_from_db()
    assert held.status == "cancelled"
    assert MailRecord.objects.filter(booking=held, kind="session_cancelled").exists()
    assert not MailRecord.objects.filter(
        booking=held, kind="approval_request", status="pending"
    ).exists()
    with pytest.raises(services.BookingError, match="not awaiting approval"):
        services.approve_booking(held, by=org.head)
    assert (
        not Transaction.objects.filter(amount__gt=0)
        .exclude(booking__status="cancelled")
        .exists()
    )


def test_a_place_cannot_be_given_away_on_a_cancelled_session(org):
    colleague = member_of(verified_person(), org).person
    session = SessionFactory.create(capacity=2)
    place = BookingFactory.create(person=org.teacher, session=session)
    session.status = "cancelled"
    session.save()
    with pytest.raises(services.BookingError, match="cancelled"):
        services.swap_booking(place, colleague, by=org.head)


def test_removing_a_member_releases_their_held_place_and_it_cannot_be_approved(org):
    session = SessionFactory.create(capacity=1, course__price=Decimal("40"))
    held = services.book_session(org.teacher, session, organisation=org)
    waiting = services.book_session(verified_person(), session)
    membership = Membership.objects.get(person=org.teacher, organisation=org)
    Membership.objects.filter(pk=membership.pk).update(status="requested")
    with pytest.raises(services.BookingError, match="no longer a confirmed member"):
        services.approve_booking(held, by=org.head)
    assert not Transaction.objects.exists()
    # The approver's page drops it, and the sweep releases the place.
    page = client_for(org.head).get(f"/organisation/{org.pk}/").content.decode()
    assert "Approve or decline" not in page
    assert tasks.expire_offers() == 1
    held.refresh_from_db()
    waiting.refresh_from_db()
    assert (held.status, waiting.status) == ("cancelled", "confirmed")


def test_removing_someone_from_the_page_releases_at_once(org):
    other_approver = member_of(verified_person(), org, is_approver=True).person
    session = SessionFactory.create(capacity=3)
    held = services.book_session(org.teacher, session)
    membership = Membership.objects.get(person=org.teacher, organisation=org)
    client_for(other_approver).post(
        f"/organisation/{org.pk}/members/{membership.pk}/", {"decision": "remove"}
    )
    held.refresh_from_db()
    assert held.status == "cancelled"


def test_a_hold_never_outlasts_the_session(org):
    soon = timezone.now() + dt.timedelta(hours=20)
    session = SessionFactory.create(
        starts_at=soon, ends_at=soon + dt.timedelta(hours=1)
    )
    held = services.book_session(org.teacher, session)
    assert held.approval_expires_at == session.starts_at


def test_the_only_approvers_own_booking_is_confirmed():
    org = OrganisationFactory.create(bookings_need_approval=True)
    head = member_of(verified_person(), org, is_approver=True).person
    booking = services.book_session(head, SessionFactory.create())
    assert booking.status == "confirmed"


def test_a_booker_never_charges_a_member_personally():
    org = OrganisationFactory.create(name="Brook School", pays_on_account=False)
    booker = member_of(verified_person(), org, is_booker=True).person
    member = member_of(verified_person(), org).person
    session = SessionFactory.create(course__price=Decimal("99"))
    page = client_for(booker).get(f"/organisation/{org.pk}/book/{session.pk}/")
    assert "can book only free sessions" in page.content.decode()
    with pytest.raises(services.BookingError, match="does not pay for places"):
        services.book_members(session, [member], by=booker, organisation=org)
    assert not Transaction.objects.exists()
    # Nor by handing on a place the member pays for themselves.
    own = services.book_session(member, session)
    colleague = member_of(verified_person(), org).person
    with pytest.raises(services.BookingError, match="paid for by the person"):
        services.swap_booking(own, colleague, by=booker)


def test_paid_places_a_booker_books_go_on_the_account_with_the_po(org):
    org.bookings_need_approval = False
    org.purchase_order = "PO-YEAR"
    org.save()
    session = SessionFactory.create(capacity=5, course__price=Decimal("30"))
    services.book_members(session, [org.teacher], by=org.head, organisation=org)
    charge = Transaction.objects.get()
    assert (charge.organisation, charge.person, charge.reference) == (
        org,
        org.teacher,
        "PO-YEAR",
    )
    other = member_of(verified_person(), org).person
    services.book_members(
        session, [other], by=org.head, organisation=org, purchase_order="PO-9"
    )
    assert Transaction.objects.get(person=other).reference == "PO-9"


def test_accepting_an_offer_that_needs_approval_says_so(org):
    session = SessionFactory.create(
        capacity=1, course__waitlist_mode=Course.WaitlistMode.OFFER
    )
    first = services.book_session(verified_person(), session)
    waiting = services.book_session(org.teacher, session)
    services.cancel_booking(first, by=first.person)
    response = client_for(org.teacher).post(f"/bookings/{waiting.pk}/accept/")
    said = [str(m) for m in get_messages(response.wsgi_request)]
    waiting.refresh_from_db()
    assert waiting.status == "awaiting_approval"
    assert said == [waiting.status_message()]
    assert "held while Hillside Primary approves it" in said[0]


def test_restriction_stops_the_organisation_side(org):
    second = member_of(verified_person(), org, is_approver=True).person
    restrict_processing(second)
    session = SessionFactory.create(capacity=3)
    held = services.book_session(org.teacher, session)
    assert list(
        MailRecord.objects.filter(booking=held, kind="approval_request").values_list(
            "to", flat=True
        )
    ) == [org.head.email]
    assert client_for(second).get(f"/organisation/{org.pk}/").status_code == 403
    # A restricted member is not listed, and their pending approval mail stops.
    restrict_processing(org.teacher)
    held.refresh_from_db()
    assert held.status == "cancelled"
    assert not MailRecord.objects.filter(
        booking=held,
        kind__in=("approval_request", "awaiting_approval"),
        status="pending",
    ).exists()
    page = client_for(org.head).get(f"/organisation/{org.pk}/").content.decode()
    assert org.teacher.get_full_name() not in page


def test_unverified_sign_ups_are_not_offered_for_confirmation(org):
    impostor = UserFactory.create(
        first_name="Fake", last_name="Head", email="head@hillside.example"
    )
    EmailAddress.objects.create(user=impostor, email=impostor.email, verified=False)
    asked = account_services.request_membership(impostor, org)
    page = client_for(org.head).get(f"/organisation/{org.pk}/").content.decode()
    assert "head@hillside.example" not in page
    with pytest.raises(
        account_services.AccountsError, match="not confirmed their email"
    ):
        account_services.confirm_membership(asked, by=org.head)


def test_the_booking_page_counts_only_places_members_may_take(org):
    org.bookings_need_approval = False
    org.save()
    other = OrganisationFactory.create(name="Other School")
    session = SessionFactory.create(capacity=2)
    Reservation.objects.create(
        session=session,
        places=2,
        organisation=other,
        until=timezone.now() + dt.timedelta(days=3),
    )
    client = client_for(org.head)
    page = client.get(f"/organisation/{org.pk}/book/{session.pk}/").content.decode()
    assert "None: people you book join the waiting list" in page
    assert "reserved for members of Other School" in page
    response = client.post(
        f"/organisation/{org.pk}/book/{session.pk}/", {"people": [org.teacher.pk]}
    )
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == [
        "The places left are reserved for others, so on the waiting list: "
        f"{org.teacher.get_full_name()}."
    ]


def test_the_booking_page_query_count_does_not_grow_with_people_booked(
    org, django_assert_max_num_queries
):
    session = SessionFactory.create(capacity=50)
    client = client_for(org.head)
    url = f"/organisation/{org.pk}/book/{session.pk}/"
    for _n in range(15):
        BookingFactory.create(
            person=member_of(verified_person(), org).person, session=session
        )
    with django_assert_max_num_queries(16):
        client.get(url)


def test_a_booker_cannot_touch_a_booking_charged_to_another_organisation(org):
    second = OrganisationFactory.create(pays_on_account=True)
    member_of(org.teacher, second, workplace=False)
    place = BookingFactory.create(person=org.teacher, organisation=second)
    client = client_for(org.head)
    for url in (
        f"/organisation/{org.pk}/bookings/{place.pk}/cancel/",
        f"/organisation/{org.pk}/bookings/{place.pk}/swap/",
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, {"reason": "x"}).status_code == 404
    place.refresh_from_db()
    assert place.status == "confirmed"


def test_refusals_are_worded_for_the_booker(org):
    session = SessionFactory.create(capacity=5)
    services.book_session(org.teacher, session)
    restricted = member_of(verified_person(), org).person
    results = services.book_members(
        session, [org.teacher, restricted], by=org.head, organisation=org
    )
    restrict_processing(restricted)
    restricted.refresh_from_db()
    again = services.book_members(
        SessionFactory.create(), [restricted], by=org.head, organisation=org
    )
    assert results[0][2] == "Already booked on this session."
    assert again[0][2] == "Cannot be booked at the moment."


def test_an_expired_hold_cannot_be_approved_before_the_sweep(org):
    held = services.book_session(org.teacher, SessionFactory.create())
    Booking.objects.filter(pk=held.pk).update(
        approval_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    with pytest.raises(services.BookingError, match="time to approve"):
        services.approve_booking(held, by=org.head)


def test_changing_workplace_does_not_skip_approval(org):
    booker = member_of(verified_person(), org, is_booker=True).person
    elsewhere = OrganisationFactory.create()
    account_services.set_workplace(booker, elsewhere)
    assert Membership.objects.get(person=booker, organisation=org).confirmed
    booking = services.book_session(booker, SessionFactory.create())
    assert (booking.status, booking.approval_organisation) == ("awaiting_approval", org)


def test_approvers_cannot_remove_people_holding_roles(org):
    finance = member_of(verified_person(), org, is_finance_contact=True)
    approver = member_of(verified_person(), org, is_approver=True).person
    with pytest.raises(account_services.AccountsError, match="Ask our staff"):
        account_services.decline_membership(finance, by=approver)
    assert Membership.objects.filter(pk=finance.pk).exists()
