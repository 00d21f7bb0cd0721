"""The back office in a browser under the enforced Content-Security-Policy.

Django admin's own JavaScript (the date and time shortcuts and calendar, the
select2 autocomplete, the actions bar, the filters) must keep working with no
inline script or style allowed; the conftest fails any browser test on a CSP
violation, and these steps fail if a widget stops working.
"""

import datetime as dt
import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.utils import timezone
from playwright.sync_api import expect

from courses.models import Session
from tests.courses.factories import CourseFactory, SessionFactory
from tests.e2e.test_funding_e2e import sign_in, verified

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_page(live_server, page):
    """A superuser with two-factor authentication, signed in through the
    password and authenticator-code pages."""
    staff = verified("admin@cpd.example", "Ada", is_staff=True, is_superuser=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    sign_in(page, live_server, staff.email, totp_secret=secret)
    return page


def test_adding_a_session_with_the_date_shortcuts_and_the_course_autocomplete(
    live_server, staff_page
):
    page = staff_page
    course = CourseFactory.create(title="Safeguarding adults level 3")
    CourseFactory.create(title="Basic life support")

    page.goto(f"{live_server.url}/admin/courses/session/add/")
    # select2 asks the autocomplete view (connect-src 'self') as you type.
    page.locator(".field-course .select2-selection").click()
    page.locator(".select2-search__field").fill("Safeguarding")
    page.locator(".select2-results__option", has_text=course.title).click()
    expect(page.locator(".field-course .select2-selection__rendered")).to_have_text(
        re.compile(course.title)
    )

    # The shortcuts next to each field, and the calendar and clock pop-ups.
    starts = page.locator(".field-starts_at")
    starts.get_by_role("link", name="Today").click()
    starts.get_by_role("link", name="Now").click()
    ends = page.locator(".field-ends_at")
    ends.locator("a[id^=calendarlink]").click()
    page.locator(".calendarbox:visible").get_by_role("link", name="Tomorrow").click()
    ends.locator("a[id^=clocklink]").click()
    page.locator(".clockbox:visible").get_by_role("link", name="Noon").click()
    today = timezone.localdate()
    # The admin's own date format for en-GB: day/month/year.
    expect(page.locator("#id_starts_at_0")).to_have_value(today.strftime("%d/%m/%Y"))
    expect(page.locator("#id_ends_at_0")).to_have_value(
        (today + dt.timedelta(days=1)).strftime("%d/%m/%Y")
    )
    expect(page.locator("#id_ends_at_1")).to_have_value("12:00:00")
    page.get_by_label("Places:").fill("12")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    session = Session.objects.get(course=course)
    assert timezone.localtime(session.starts_at).date() == today
    assert session.capacity == 12


def test_running_an_action_from_the_changelist(live_server, staff_page):
    page = staff_page
    session = SessionFactory.create(course__title="Infection control")

    page.goto(f"{live_server.url}/admin/courses/session/")
    # The filters sidebar and the date hierarchy are rendered; actions.js
    # counts the selection.
    expect(page.locator("#changelist-filter")).to_be_visible()
    page.get_by_role("checkbox", name="Select this object for an action").first.check()
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")
    page.get_by_label("Action:").select_option(label="Add another session like this")
    page.get_by_role("button", name="Go").click()

    expect(page.locator(".messagelist")).to_contain_text("Added")
    assert Session.objects.filter(course=session.course).count() == 2
