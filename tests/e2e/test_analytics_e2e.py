"""First-party analytics in a real browser: no analytics request before
acceptance, after rejection or with Global Privacy Control; after acceptance
a page view is stored with a truncated IP, and the beacon's time on page,
scroll depth and time zone arrive for it."""

import re
import time

import pytest
from playwright.sync_api import expect

from analytics import metrics, services
from analytics.models import Engagement, PageView
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _analytics_requests(context) -> list[str]:
    seen: list[str] = []
    context.on(
        "request",
        lambda request: (
            seen.append(request.url) if "analytics" in request.url else None
        ),
    )
    return seen


def _beacons_received() -> int:
    """POSTs to the beacon the live server (this process) has counted so far:
    Playwright does not report sendBeacon's requests, the server sees them."""
    with metrics._lock:
        return sum(
            row[0]
            for (_minute, route, method, _status), row in metrics._routes.items()
            if route == "analytics/beacon/" and method == "POST"
        )


def _wait_for(check, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    return check()


def test_after_acceptance_a_page_view_and_its_beacon_are_recorded(
    live_server, page, first_policies
):
    for n in range(12):  # a catalogue long enough to scroll
        SessionFactory.create(course__title=f"Course {n}")
    requests = _analytics_requests(page.context)
    page.goto(f"{live_server.url}/courses/")
    page.get_by_role("button", name="Accept analytics cookies").click()
    expect(page).to_have_url(f"{live_server.url}/courses/")
    script = page.locator("script[src*='js/analytics.js']")
    expect(script).to_have_count(1)
    assert script.get_attribute("defer") is not None
    assert script.get_attribute("data-token")
    page.wait_for_timeout(1200)  # time on the page
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(400)  # the scroll handler runs at most every 200 ms
    # Leaving the page sends the report (visibilitychange / pagehide).
    page.get_by_role("link", name="Privacy notice").click()
    expect(page).to_have_url(re.compile(r"/privacy/$"))

    engagement = _wait_for(lambda: Engagement.objects.first())
    assert engagement is not None, "no beacon arrived"
    assert _beacons_received() >= 1
    assert [u for u in requests if "/static/js/analytics" in u]  # the script
    # Leave the second page too, so its report arrives within this test.
    page.goto("about:blank")
    assert _wait_for(lambda: Engagement.objects.count() == 2)
    services.flush_page_views()
    view = PageView.objects.get(view_id=engagement.view_id)
    assert view.route_name == "courses:list"
    assert view.ip_prefix == "127.0.0.0/24"  # never the whole address
    assert engagement.seconds >= 1
    assert engagement.scroll_percent > 50
    assert engagement.time_zone  # the browser's own, e.g. "UTC"
    assert PageView.objects.filter(route_name="consent:privacy").exists()


def test_no_analytics_request_before_acceptance_after_rejection_or_with_gpc(
    live_server, page, browser, first_policies
):
    SessionFactory.create()
    metrics._take()
    requests = _analytics_requests(page.context)
    for path in ("/", "/courses/", "/privacy/"):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("script[src*='analytics']")).to_have_count(0)
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.get_by_role("button", name="Reject analytics cookies").click()
    for path in ("/", "/courses/"):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("script[src*='analytics']")).to_have_count(0)
    page.goto(f"{live_server.url}/privacy/")
    page.goto("about:blank")  # a page hidden: the moment a beacon would be sent

    gpc = browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    try:
        gpc_requests = _analytics_requests(gpc)
        gpc.add_cookies(
            [{"name": "cookie_choice", "value": "accepted", "url": live_server.url}]
        )
        gpc_page = gpc.new_page()
        for path in ("/", "/courses/", "/privacy/"):
            gpc_page.goto(f"{live_server.url}{path}")
            expect(gpc_page.locator("script[src*='analytics']")).to_have_count(0)
        gpc_page.goto("about:blank")
    finally:
        gpc.close()

    time.sleep(0.5)
    assert requests == []
    assert gpc_requests == []
    assert _beacons_received() == 0
    services.flush_page_views()
    assert PageView.objects.count() == 0
    assert Engagement.objects.count() == 0
