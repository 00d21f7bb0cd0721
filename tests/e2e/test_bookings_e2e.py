"""Booking a session, as learners do it in a browser: book, see it in My bookings,
take the calendar file, cancel, and the next person waiting gets the place and
a real mail over SMTP."""

import datetime as dt
import email
import re
import time
from email import policy
from zoneinfo import ZoneInfo

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from bookings.models import Booking
from tests.accounts.factories import UserFactory
from tests.courses.factories import CourseFactory, SessionFactory

pytestmark = pytest.mark.django_db(transaction=True)

LONDON = ZoneInfo("Europe/London")
FACTORY_PASSWORD = "correct-horse-battery"
PROMOTED_SUBJECT = "A place has come free and is yours"


def learner(first_name: str, address: str):
    user = UserFactory.create(first_name=first_name, email=address)
    EmailAddress.objects.create(user=user, email=address, primary=True, verified=True)
    return user


def sign_in(page, live_server, address: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password", exact=True).fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()


def booking_card(page, title: str):
    return page.locator(".app-card").filter(has=page.get_by_role("heading", name=title))


def mails(smtp_server) -> list[tuple[list[str], email.message.EmailMessage]]:
    return [
        (e.rcpt_tos, email.message_from_bytes(e.content, policy=policy.default))
        for e in list(smtp_server.envelopes)
    ]


def wait_for_mail(smtp_server, to: str, subject_start: str, *, timeout: float = 10):
    """The first message to `to` whose subject starts with `subject_start`.

    Mail goes out from a task run after commit, so it may land a moment after
    the page that caused it."""
    deadline = time.monotonic() + timeout
    while True:
        for rcpt_tos, message in mails(smtp_server):
            if rcpt_tos == [to] and message["Subject"].startswith(subject_start):
                return message
        if time.monotonic() > deadline:
            seen = [(r, m["Subject"]) for r, m in mails(smtp_server)]
            raise AssertionError(
                f"no mail {subject_start!r} to {to} within {timeout}s; got {seen}"
            )
        time.sleep(0.1)


def today_in_london_plus(days: int) -> dt.date:
    return dt.datetime.now(tz=LONDON).date() + dt.timedelta(days=days)


def test_book_download_ics_cancel_and_the_next_learner_is_promoted_by_mail(
    live_server, page, browser, smtp_server
):
    title = "Managing medicines in school"
    day = today_in_london_plus(14)
    starts_at = dt.datetime.combine(day, dt.time(9, 30), tzinfo=LONDON)
    course = CourseFactory.create(title=title, summary="Safe storage and records.")
    SessionFactory.create(
        course=course,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=3),
        capacity=1,
    )
    ada = learner("Ada", "ada@westmoor.example")
    ben = learner("Ben", "ben@westmoor.example")

    # Ada books the only place.
    sign_in(page, live_server, ada.email)
    page.goto(f"{live_server.url}{course.get_absolute_url()}")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_text("1 place left")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Book")).click()

    # The booking's own page, with its reference; then the list of bookings.
    expect(page).to_have_url(re.compile(rf"^{live_server.url}/bookings/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_text("Your place is booked")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Booking B-\d{6}$"))).to_be_visible()
    page.get_by_role("link", name="All your bookings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My bookings")
    card = booking_card(page, title)
    expect(card).to_have_count(1)
    expect(card.get_by_role("link", name=title, exact=True)).to_be_visible()
    expect(card.locator(".govuk-tag")).to_have_text("Confirmed")

    # The calendar file downloads and holds the session in UK time.
    with page.expect_download() as download_info:
        card.get_by_role("link", name=re.compile(r"^Add to calendar \(\.ics\)")).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".ics")
    with open(download.path(), encoding="utf-8") as fh:
        ics = fh.read()
    assert "BEGIN:VEVENT" in ics
    assert f"SUMMARY:{title}" in ics
    assert f"DTSTART;TZID=Europe/London:{day:%Y%m%d}T093000" in ics, ics
    assert "BEGIN:VTIMEZONE" in ics

    # Ben, in his own browser, finds the session full and joins the waiting list.
    ben_context = browser.new_context()
    try:
        ben_page = ben_context.new_page()
        ben_page.set_default_timeout(15_000)
        sign_in(ben_page, live_server, ben.email)
        ben_page.goto(f"{live_server.url}{course.get_absolute_url()}")
        expect(ben_page.get_by_text("Full, join the waiting list")).to_be_visible()
        expect(ben_page.get_by_role("button", name=re.compile("^Book"))).to_have_count(
            0
        )
        ben_page.get_by_role("button", name=re.compile("^Join waiting list")).click()
        expect(ben_page).to_have_url(re.compile(rf"^{live_server.url}/bookings/\d+/$"))
        expect(
            ben_page.get_by_text("The session is full, so you are on the waiting list")
        ).to_be_visible()
        expect(ben_page.get_by_text("You are number 1.")).to_be_visible()
        # The course page now says where he stands instead of a second button.
        ben_page.goto(f"{live_server.url}{course.get_absolute_url()}")
        expect(
            ben_page.get_by_text("You are number 1 on the waiting list")
        ).to_be_visible()
        expect(
            ben_page.get_by_role("button", name=re.compile("^Join waiting list"))
        ).to_have_count(0)
        ben_page.goto(f"{live_server.url}/bookings/")
        ben_card = booking_card(ben_page, title)
        expect(ben_card.locator(".govuk-tag")).to_have_text("Waiting list")
        expect(ben_card).to_contain_text("You are number 1 on the waiting list.")
        expect(
            ben_card.get_by_role("link", name=re.compile(r"^Add to calendar"))
        ).to_have_count(0)

        # Ada cancels, with a reason, after a confirmation page.
        page.reload()
        card = booking_card(page, title)
        card.get_by_role("link", name=re.compile("^Cancel this booking")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Are you sure you want to cancel your booking?"
        )
        expect(page.locator(".govuk-summary-list")).to_contain_text(title)
        page.get_by_label("Why are you cancelling? (optional)").fill(
            "Clashes with a staff meeting"
        )
        page.get_by_role("button", name="Yes, cancel my booking").click()

        expect(page).to_have_url(f"{live_server.url}/bookings/")
        expect(page.get_by_text("Your booking has been cancelled.")).to_be_visible()
        expect(booking_card(page, title)).to_have_count(0)
        past = page.locator("table.govuk-table")
        expect(past.get_by_role("row").filter(has_text=title)).to_contain_text(
            "Cancelled"
        )

        # Ben now has the place, and is told so by mail.
        ben_page.reload()
        ben_card = booking_card(ben_page, title)
        expect(ben_card.locator(".govuk-tag")).to_have_text("Confirmed")
        expect(ben_card).not_to_contain_text("waiting list")
        expect(
            ben_card.get_by_role("link", name=re.compile(r"^Add to calendar"))
        ).to_be_visible()
    finally:
        ben_context.close()

    message = wait_for_mail(smtp_server, ben.email, PROMOTED_SUBJECT)
    assert message["To"] == ben.email
    assert title in message["Subject"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Hello Ben" in body
    assert "a place has come free and it is now yours" in body
    attachments = {
        part.get_filename(): part.get_content() for part in message.iter_attachments()
    }
    assert "session.ics" in attachments
    attached = attachments["session.ics"]
    if isinstance(attached, bytes):
        attached = attached.decode()
    assert f"SUMMARY:{title}" in attached

    assert Booking.objects.get(person=ada).cancel_reason == (
        "Clashes with a staff meeting"
    )

    # Only Ben was sent the promotion.
    promoted = [
        r for r, m in mails(smtp_server) if m["Subject"].startswith(PROMOTED_SUBJECT)
    ]
    assert promoted == [[ben.email]]


def test_a_certificate_prints_from_its_button_and_downloads_as_pdf(
    live_server, browser
):
    from tests.bookings.factories import BookingFactory

    person = learner("Ada", "ada.print@example.org")
    session = SessionFactory.create(
        course__title="Print Me Safely",
        starts_at=dt.datetime(2025, 3, 3, 10, tzinfo=LONDON),
        ends_at=dt.datetime(2025, 3, 3, 13, tzinfo=LONDON),
    )
    booking = BookingFactory.create(
        person=person,
        session=session,
        status=Booking.Status.ATTENDED,
        certificate_code="PRNT-0001-TEST",
    )
    context = browser.new_context()
    # The browser's print dialog cannot open headless: count the calls.
    context.add_init_script(
        "window.print = () => { window.__printed = (window.__printed || 0) + 1; };"
    )
    page = context.new_page()
    sign_in(page, live_server, person.email)
    page.goto(f"{live_server.url}/training-record/certificates/{booking.pk}/")
    expect(
        page.get_by_role("heading", name="Certificate of attendance")
    ).to_be_visible()
    page.get_by_role("button", name="Print this certificate").click()
    assert page.evaluate("window.__printed") == 1
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as PDF").click()
    assert download.value.suggested_filename == f"certificate-{booking.reference}.pdf"
    context.close()
