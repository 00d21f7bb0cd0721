"""A report in a browser: the data-protection lead signs in with two-factor
authentication, opens the bookings report, filters it by date and grouping,
and finds the chart (an image with a name) and the table beside it."""

import datetime as dt

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts import roles
from bookings.models import Booking
from tests.courses.factories import CourseFactory, SessionFactory
from tests.e2e.test_funding_e2e import sign_in, verified
from tests.funding.factories import cheap_people

pytestmark = pytest.mark.django_db(transaction=True)


def test_filter_a_report_by_date_and_read_its_chart_and_table(page, live_server):
    lead = verified("dpo@traininghub.example", "Dee", is_staff=True)
    lead.groups.add(Group.objects.get(name=roles.DATA_PROTECTION_LEAD))
    secret = generate_totp_secret()
    TOTP.activate(lead, secret)
    course = CourseFactory.create(title="Asthma update")
    march = SessionFactory.create(
        course=course,
        starts_at=dt.datetime(2026, 3, 10, 10, tzinfo=dt.UTC),
    )
    june = SessionFactory.create(
        course=course,
        starts_at=dt.datetime(2026, 6, 10, 10, tzinfo=dt.UTC),
    )
    people = cheap_people(9)
    Booking.objects.bulk_create(
        [Booking(person=p, session=march, status="attended") for p in people[:6]]
        + [Booking(person=p, session=june, status="no_show") for p in people[6:]]
    )

    sign_in(page, live_server, lead.email, totp_secret=secret)
    page.goto(f"{live_server.url}/staff/reports/")
    page.get_by_role("link", name="Bookings and attendance").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bookings and attendance")
    # GOV.UK date inputs: a group of day, month and year boxes for each date.
    for name, (day, month, year) in (
        ("From date", ("1", "3", "2026")),
        ("To date", ("31", "3", "2026")),
    ):
        group = page.get_by_role("group", name=name)
        group.get_by_label("Day").fill(day)
        group.get_by_label("Month").fill(month)
        group.get_by_label("Year").fill(year)
    page.get_by_label("Group by").select_option(label="Month")
    page.get_by_role("button", name="Show report").click()

    chart = page.get_by_role("img", name="Bookings and attendance: bookings by month")
    expect(chart).to_be_visible()
    table = page.get_by_role("table", name="Bookings and attendance by month")
    expect(table).to_be_visible()
    expect(table.get_by_role("row", name="March 2026")).to_contain_text("6")
    # June is outside the dates chosen.
    expect(table.get_by_role("row", name="June 2026")).to_have_count(0)

    # A date that does not exist: a message linked to the field, no report.
    page.goto(f"{live_server.url}/staff/reports/bookings/?from=2026-02-30")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("From date must be a real date")
    summary.get_by_role("link").first.click()
    expect(
        page.get_by_role("group", name="From date").get_by_label("Day")
    ).to_be_focused()
