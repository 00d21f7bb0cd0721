import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from icalendar import Calendar

from bookings.models import Booking, PriorLearning, Transaction
from courses.models import Course
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.courses.factories import CourseFactory, SessionFactory

pytestmark = pytest.mark.django_db


def test_booking_from_the_course_page_shows_the_result(learner_client):
    session = SessionFactory.create(capacity=1)
    response = learner_client.post(f"/sessions/{session.pk}/book/", follow=True)
    html = response.content.decode()
    assert "Your place is booked" in html
    assert session.course.title in html
    other = UserFactory.create()
    BookingFactory.create(
        person=other, session=(full := SessionFactory.create(capacity=1))
    )
    html = learner_client.post(
        f"/sessions/{full.pk}/book/", follow=True
    ).content.decode()
    assert "you are on the waiting list" in html
    # The booking's own page: its reference and the place in the queue.
    assert "You are number 1. We will email you if a place comes free." in html
    booking = full.bookings.get(person=learner_client.user)
    assert f"Booking {booking.reference}</span>" in html


def test_a_booking_has_its_own_page_and_the_course_page_says_it_is_held(
    learner_client, client, django_assert_max_num_queries
):
    session = SessionFactory.create(
        starts_at=dt.datetime(2031, 3, 4, 10, 0, tzinfo=ZoneInfo("Europe/London")),
        ends_at=dt.datetime(2031, 3, 4, 13, 30, tzinfo=ZoneInfo("Europe/London")),
        venue="Westmoor Library",
    )
    learner_client.post(f"/sessions/{session.pk}/book/")
    booking = session.bookings.get(person=learner_client.user)
    assert booking.reference == f"B-{booking.pk:06d}"
    page = learner_client.get(f"/bookings/{booking.pk}/").content.decode()
    assert "10am to 1:30pm (UK time)" in page
    assert "Westmoor Library" in page
    assert f'href="/bookings/{booking.pk}/calendar.ics"' in page
    assert f'href="/bookings/{booking.pk}/cancel/"' in page
    course = learner_client.get(session.course.get_absolute_url()).content.decode()
    assert (
        f'You are booked: <a class="govuk-link" href="/bookings/{booking.pk}/">'
        in course
    )
    assert f'action="/sessions/{session.pk}/book/"' not in course
    # Somebody else's booking page does not exist for them.
    other = UserFactory.create()
    client.force_login(other)
    assert client.get(f"/bookings/{booking.pk}/").status_code == 404
    other_course = client.get(session.course.get_absolute_url()).content.decode()
    assert f'action="/sessions/{session.pk}/book/"' in other_course
    with django_assert_max_num_queries(12):
        learner_client.get(f"/bookings/{booking.pk}/")


def test_booking_twice_shows_a_clear_message(learner_client):
    session = SessionFactory.create()
    learner_client.post(f"/sessions/{session.pk}/book/")
    html = learner_client.post(
        f"/sessions/{session.pk}/book/", follow=True
    ).content.decode()
    assert "You already have a booking for this session." in html
    # The error links to the dates, and the title says it is an error.
    assert (
        '<a href="#sessions">You already have a booking for this session.</a>' in html
    )
    assert "<title>Error: " in html


def test_booking_needs_sign_in_and_post(client, learner_client):
    session = SessionFactory.create()
    assert learner_client.get(f"/sessions/{session.pk}/book/").status_code == 405
    from django.test import Client

    anon = Client().post(f"/sessions/{session.pk}/book/")
    assert anon.status_code == 302
    assert "/accounts/login/" in anon["Location"]


def test_cancel_asks_for_confirmation_then_cancels(learner_client):
    booking = BookingFactory.create(person=learner_client.user)
    page = learner_client.get(f"/bookings/{booking.pk}/cancel/").content.decode()
    assert "Are you sure you want to cancel your booking?" in page
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    html = learner_client.post(
        f"/bookings/{booking.pk}/cancel/", {"reason": "Off sick"}, follow=True
    ).content.decode()
    assert "Your booking has been cancelled." in html
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == ("cancelled", "Off sick")


def test_people_cannot_see_or_cancel_each_others_bookings(learner_client):
    theirs = BookingFactory.create()
    assert learner_client.get(f"/bookings/{theirs.pk}/cancel/").status_code == 404
    assert learner_client.post(f"/bookings/{theirs.pk}/cancel/").status_code == 404
    assert learner_client.get(f"/bookings/{theirs.pk}/calendar.ics").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "confirmed"


def test_calendar_file_is_a_valid_event_in_london_time(learner_client):
    starts = dt.datetime(2030, 7, 1, 8, 30, tzinfo=dt.UTC)
    booking = BookingFactory.create(
        person=learner_client.user,
        session=SessionFactory.create(starts_at=starts, venue="Civic Centre"),
    )
    response = learner_client.get(f"/bookings/{booking.pk}/calendar.ics")
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    event = next(iter(cal.walk("VEVENT")))
    start = event.decoded("dtstart")
    assert str(start.tzinfo) == "Europe/London"
    assert (start.hour, start.minute) == (9, 30)
    assert str(event["location"]) == "Civic Centre"
    assert any(c.name == "VTIMEZONE" for c in cal.walk())


def test_joining_link_only_for_confirmed_attendees(learner_client):
    online = CourseFactory.create(mode=Course.Mode.LIVE_ONLINE)
    s1 = SessionFactory.create(
        course=online, joining_url="https://meet.example/secret-1"
    )
    s2 = SessionFactory.create(
        course=online, joining_url="https://meet.example/secret-2"
    )
    BookingFactory.create(person=learner_client.user, session=s1, status="confirmed")
    BookingFactory.create(person=learner_client.user, session=s2, status="waitlisted")
    html = learner_client.get("/bookings/").content.decode()
    assert "secret-1" in html
    assert "secret-2" not in html
    assert (
        "secret" not in learner_client.get(online.get_absolute_url()).content.decode()
    )


@pytest.mark.parametrize("count", [5, 200])
def test_bookings_and_training_record_run_a_fixed_number_of_queries(
    learner_client, django_assert_max_num_queries, count
):
    course = CourseFactory.create()
    person = learner_client.user
    sessions = SessionFactory.create_batch(count, course=course)
    past = SessionFactory.create_batch(
        count // 5 or 1, course=course, starts_at=timezone.now() - dt.timedelta(days=30)
    )
    Booking.objects.bulk_create(
        [
            Booking(person=person, session=s, status="confirmed")
            for s in sessions[: count // 2]
        ]
        + [
            Booking(person=person, session=s, status="waitlisted")
            for s in sessions[count // 2 :]
        ]
        + [Booking(person=person, session=s, status="attended") for s in past]
    )
    PriorLearning.objects.bulk_create(
        [
            PriorLearning(
                person=person,
                title=f"T{i}",
                completed_on=dt.date(2025, 1, 1),
                cpd_hours=Decimal(2),
            )
            for i in range(count // 5 or 1)
        ]
    )
    with django_assert_max_num_queries(10):
        response = learner_client.get("/bookings/")
    assert len(response.context["upcoming"]) == count
    with django_assert_max_num_queries(10):
        response = learner_client.get("/training-record/")
    # A page of them (config.paging.PER_PAGE), however many there are.
    assert len(response.context["attended"].object_list) == min(len(past), 20)


def test_training_record_totals_per_year_and_adding_training(learner_client):
    session = SessionFactory.create(
        course__cpd_hours=Decimal("6"), starts_at=timezone.now() - dt.timedelta(days=3)
    )
    BookingFactory.create(
        person=learner_client.user, session=session, status="attended"
    )
    response = learner_client.post(
        "/training-record/",
        {
            "title": "First aid at work",
            "provider_name": "St John",
            "completed_on": "2025-03-02",
            "cpd_hours": "7.5",
            "notes": "",
        },
        follow=True,
    )
    html = response.content.decode()
    assert "First aid at work" in html
    years = response.context["years"]
    assert years[2025]["total"] == Decimal("7.5")
    assert years[timezone.localdate(session.starts_at).year]["booked"] == Decimal("6")


def test_training_record_rejects_bad_input_with_messages(learner_client):
    response = learner_client.post(
        "/training-record/",
        {
            "title": "",
            "completed_on_day": "31",
            "completed_on_month": "2",
            "completed_on_year": "2026",
            "cpd_hours": "-1",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert '<a href="#id_completed_on_day">Date completed must be a real date' in html
    assert not PriorLearning.objects.exists()


def test_transactions_show_a_running_balance(learner_client):
    session = SessionFactory.create(course__price=Decimal("60"))
    learner_client.post(f"/sessions/{session.pk}/book/", {"confirm": "yes"})
    Transaction.objects.create(
        person=learner_client.user,
        kind="payment",
        amount=Decimal("-20"),
        reference="PO-123",
        description="Payment received",
    )
    response = learner_client.get("/transactions/")
    # Newest first, each with the running total after it.
    assert [e.balance for e in response.context["entries"]] == [
        Decimal("40"),
        Decimal("60"),
    ]
    assert "PO-123" in response.content.decode()


def test_the_cached_catalogue_shows_places_left_right_after_booking_and_cancelling(
    learner_client, client
):
    session = SessionFactory.create(capacity=3, course__title="Cached course")
    assert "3 places left" in client.get("/courses/").content.decode()  # now cached
    learner_client.post(f"/sessions/{session.pk}/book/")
    assert "2 places left" in client.get("/courses/").content.decode()
    booking = Booking.objects.get(session=session)
    learner_client.post(f"/bookings/{booking.pk}/cancel/", {"reason": ""})
    assert "3 places left" in client.get("/courses/").content.decode()


def test_leaving_the_waiting_list_gives_no_one_a_place(learner_client):
    session = SessionFactory.create(capacity=1)
    holder = BookingFactory.create(session=session)
    waiting = BookingFactory.create(
        person=learner_client.user, session=session, status="waitlisted"
    )
    page = learner_client.get(f"/bookings/{waiting.pk}/cancel/").content.decode()
    assert "Are you sure you want to leave the waiting list?" in page
    html = learner_client.post(f"/bookings/{waiting.pk}/cancel/", follow=True)
    assert "You have left the waiting list." in html.content.decode()
    waiting.refresh_from_db()
    holder.refresh_from_db()
    assert (waiting.status, holder.status) == ("cancelled", "confirmed")


def test_the_calendar_file_is_the_same_each_time_until_the_booking_changes():
    from bookings.calendar import booking_ics
    from tests.bookings.factories import BookingFactory

    booking = BookingFactory.create()
    stamp = booking.updated_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    first = booking_ics(booking)
    assert f"DTSTAMP:{stamp}".encode() in first
    assert booking_ics(booking) == first


def test_a_paid_place_is_checked_before_anything_is_booked(
    learner_client, django_capture_on_commit_callbacks
):
    session = SessionFactory.create(course__price=Decimal("1850"))
    url = f"/sessions/{session.pk}/book/"
    for page in (learner_client.get(url), learner_client.post(url)):
        html = page.content.decode()
        assert page.status_code == 200
        assert "Check your booking before you confirm it" in html
        assert "£1,850" in html
        assert "and get a full refund" in html
        assert 'name="confirm" value="yes"' in html
    assert not Booking.objects.exists()
    assert not Transaction.objects.exists()
    done = learner_client.post(url, {"confirm": "yes"}, follow=True)
    assert "Your place is booked" in done.content.decode()
    assert Booking.objects.get().status == "confirmed"
    # A free place still books in one step, and has no page to GET.
    free = SessionFactory.create()
    assert learner_client.get(f"/sessions/{free.pk}/book/").status_code == 405


def test_a_venue_shows_its_address_map_link_and_notes_where_entered(learner_client):
    session = SessionFactory.create(
        venue="Westmoor Library",
        venue_address="Westmoor Library\n1 High Street\nWestmoor WM1 1AA",
        accessibility_notes="Step-free entrance; hearing loop in room 2.",
        parking_notes="Pay and display on Mill Lane.",
    )
    plain = SessionFactory.create(venue="Eastfield Hall")
    learner_client.post(f"/sessions/{session.pk}/book/")
    booking = session.bookings.get()
    for url in (session.course.get_absolute_url(), f"/bookings/{booking.pk}/"):
        html = learner_client.get(url).content.decode()
        assert "Westmoor Library<br>1 High Street<br>Westmoor WM1 1AA" in html
        assert (
            'href="https://www.openstreetmap.org/search?query='
            'Westmoor+Library+1+High+Street+Westmoor+WM1+1AA"'
        ) in html
        assert "<strong>Accessibility:</strong> Step-free entrance" in html
        assert "<strong>Parking and travel:</strong> Pay and display" in html
    html = learner_client.get(plain.course.get_absolute_url()).content.decode()
    assert "Eastfield Hall" in html
    assert "View on a map" not in html
    assert "Accessibility:" not in html
