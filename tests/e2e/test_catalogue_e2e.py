"""Finding a course in the catalogue with the keyboard alone, and on a narrow
(320px) screen, against the real search on PostgreSQL."""

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from courses.models import Course, Provider
from courses.services import reindex_courses
from tests.courses.factories import (
    CourseFactory,
    ProviderFactory,
    SessionFactory,
    TopicFactory,
)
from tests.e2e.conftest import tab_until

pytestmark = pytest.mark.django_db(transaction=True)

# The innermost elements whose right edge is past the viewport, to say why a
# page scrolls sideways.
STICKING_OUT_JS = """() => [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
    .filter(e => ![...e.children].some(
        c => c.getBoundingClientRect().right > innerWidth + 1))
    .slice(0, 5)
    .map(e => `<${e.tagName.toLowerCase()} class="${e.className}"> right edge at `
              + `${Math.round(e.getBoundingClientRect().right)}px`)"""


@pytest.fixture
def catalogue():
    """Four published courses with upcoming sessions; only one is a live online
    safeguarding course about safeguarding."""
    safeguarding = TopicFactory.create(name="Safeguarding", slug="safeguarding")
    first_aid = TopicFactory.create(name="First aid", slug="first-aid")
    wellbeing = TopicFactory.create(name="Wellbeing", slug="wellbeing")
    trust = ProviderFactory.create(
        name="Westmoor Learning Trust", kind=Provider.Kind.INTERNAL
    )
    medics = ProviderFactory.create(name="Medics Ltd", kind=Provider.Kind.THIRD_PARTY)
    soon = timezone.now() + dt.timedelta(days=10)

    wanted = CourseFactory.create(
        slug="safeguarding-children-level-2",
        title="Safeguarding children: level 2 refresher for designated leads",
        summary="Keep your safeguarding practice current.",
        provider=trust,
        mode=Course.Mode.LIVE_ONLINE,
        price=Decimal("0"),
        topics=[safeguarding],
    )
    SessionFactory.create(
        course=wanted, starts_at=soon, venue="", joining_url="https://meet.example/1"
    )
    SessionFactory.create(
        course=wanted,
        starts_at=soon + dt.timedelta(days=30),
        venue="",
        joining_url="https://meet.example/2",
        capacity=12,
    )
    in_person = CourseFactory.create(
        title="Safeguarding adults in care homes",
        summary="Safeguarding for adult social care.",
        provider=trust,
        mode=Course.Mode.IN_PERSON,
        topics=[safeguarding],
    )
    first_aid_course = CourseFactory.create(
        title="Paediatric first aid",
        summary="Emergency first aid for children.",
        provider=medics,
        mode=Course.Mode.LIVE_ONLINE,
        price=Decimal("85"),
        topics=[first_aid],
    )
    other_topic = CourseFactory.create(
        title="Staff wellbeing and safeguarding yourself",
        summary="Look after your own wellbeing while safeguarding others.",
        provider=medics,
        mode=Course.Mode.LIVE_ONLINE,
        topics=[wellbeing],
    )
    for course in (in_person, first_aid_course, other_topic):
        SessionFactory.create(course=course, starts_at=soon + dt.timedelta(days=3))
    reindex_courses()
    return {
        "wanted": wanted,
        "others": [in_person, first_aid_course, other_topic],
    }


def test_search_filter_and_open_a_course_with_the_keyboard(
    live_server, page, catalogue
):
    wanted = catalogue["wanted"]
    page.goto(f"{live_server.url}/courses/")
    results = page.get_by_role("list", name="Courses")
    expect(results.get_by_role("listitem")).to_have_count(4)

    tab_until(page, "#id_q")
    expect(page.get_by_label("Search courses")).to_be_focused()
    page.keyboard.type("safeguarding")

    page.keyboard.press("Tab")
    topic = page.get_by_label("Topic")
    expect(topic).to_be_focused()
    page.keyboard.type("Safeguarding")
    expect(topic).to_have_value("safeguarding")

    page.keyboard.press("Tab")
    mode = page.get_by_label("How it is delivered")
    expect(mode).to_be_focused()
    page.keyboard.type("Live")
    expect(mode).to_have_value("live_online")

    tab_until(page, "button.govuk-button")
    expect(page.get_by_role("button", name="Apply filters")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_have_text("1 course found")
    expect(results.get_by_role("listitem")).to_have_count(1)
    expect(results.get_by_role("link", name=wanted.title)).to_be_visible()
    for other in catalogue["others"]:
        expect(page.get_by_role("link", name=other.title)).to_have_count(0)
    # The choices survive the round trip, so the page can be corrected.
    expect(page.get_by_label("Search courses")).to_have_value("safeguarding")
    expect(page.get_by_label("Topic")).to_have_value("safeguarding")
    expect(page.get_by_label("How it is delivered")).to_have_value("live_online")

    # The address holds the search, so it can be bookmarked or shared.
    url = page.url
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == "/courses/"
    assert query["q"] == ["safeguarding"]
    assert query["topic"] == ["safeguarding"]
    assert query["mode"] == ["live_online"]
    shared = page.context.new_page()
    shared.goto(url)
    expect(shared.get_by_role("status")).to_have_text("1 course found")
    expect(shared.get_by_role("link", name=wanted.title)).to_be_visible()
    shared.close()

    tab_until(page, f'a[href="/courses/{wanted.slug}/"]')
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_server.url}/courses/{wanted.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(wanted.title)
    sessions = page.get_by_role("table", name="Upcoming sessions (UK time)")
    expect(sessions).to_be_visible()
    expect(sessions.get_by_role("columnheader")).to_have_text(
        ["Date and time", "Where", "Places", "Action"]
    )
    rows = sessions.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Online")
    expect(rows.nth(0)).to_contain_text("10 places left")
    expect(rows.nth(1)).to_contain_text("12 places left")


@pytest.mark.parametrize("where", ["catalogue", "course"])
def test_no_sideways_scrolling_at_320_pixels(live_server, page, catalogue, where):
    page.set_viewport_size({"width": 320, "height": 800})
    if where == "catalogue":
        page.goto(f"{live_server.url}/courses/?q=safeguarding")
    else:
        page.goto(f"{live_server.url}/courses/{catalogue['wanted'].slug}/")
    # The stylesheet is really applied (otherwise nothing here means anything).
    expect(page.locator(".govuk-width-container").first).to_have_css(
        "max-width", re.compile(r"\d+px")
    )

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320 + 1, (
        f"the page scrolls sideways: {width}px wide at 320px; sticking out: "
        + "; ".join(page.evaluate(STICKING_OUT_JS))
    )

    if where == "catalogue":
        for control in (
            page.get_by_label("Search courses"),
            page.get_by_role("button", name="Apply filters"),
        ):
            expect(control).to_be_visible()
            box = control.bounding_box()
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= 320 + 1
        expect(page.get_by_role("link", name=catalogue["wanted"].title)).to_be_visible()
    else:
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(
            page.get_by_role("table", name="Upcoming sessions (UK time)")
        ).to_be_attached()


def test_on_a_phone_results_come_first_and_filters_fold_away(
    live_server, page, catalogue
):
    """After the cookie banner is answered, the first result is on the first
    screen of a phone; the filters are one "Filter courses" control away (a
    details element, no JavaScript needed), and open on a wider screen."""
    page.set_viewport_size({"width": 375, "height": 667})
    page.goto(f"{live_server.url}/courses/")
    page.get_by_role("button", name="Reject analytics cookies").click()
    first = page.locator(".app-card").first
    expect(first).to_be_visible()
    assert first.bounding_box()["y"] < 667, first.bounding_box()
    search = page.locator("#id_q")
    expect(search).to_be_hidden()
    # Keyboard: the link to the results comes before every filter control.
    skip = page.get_by_role("link", name="Skip to results")
    assert skip.evaluate(
        "e => !!(e.compareDocumentPosition(document.getElementById('id_q'))"
        " & Node.DOCUMENT_POSITION_FOLLOWING)"
    )
    skip.focus()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#results")).to_be_focused()
    page.get_by_text("Filter courses").click()
    expect(search).to_be_visible()
    search.fill("safeguarding")
    page.get_by_role("button", name="Apply filters").click()
    # A filter in use keeps them open on the next page.
    expect(page.locator("#id_q")).to_be_visible()
    expect(page.locator("#id_q")).to_have_value("safeguarding")

    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server.url}/courses/")
    expect(page.locator("#id_q")).to_be_visible()
    expect(page.get_by_text("Filter courses")).to_be_hidden()
