"""The beacon endpoint: only a page view's own signed token, from our own
origin, from the browser it was issued to, with values in range; limited per
visit; answering normally with Redis down."""

import uuid

import pytest
from django.core import signing

from analytics import services
from analytics.middleware import beacon_token
from analytics.models import Engagement, OutboundClick, PageView
from consent.services import record_consent
from tests.accounts.factories import UserFactory

from .conftest import accepting, token_of

pytestmark = pytest.mark.django_db

ORIGIN = {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin"}


def _page(client) -> str:
    token = token_of(accepting(client).get("/"))
    services.flush_page_views()
    return token


def _nothing_written():
    assert Engagement.objects.count() == 0
    assert OutboundClick.objects.count() == 0


def _engagement(token, **extra):
    return {
        "token": token,
        "kind": "engagement",
        "seconds": "42",
        "scroll": "75",
        "tz": "Europe/London",
        **extra,
    }


def test_time_on_page_scroll_and_time_zone_are_stored_against_the_view(client):
    token = _page(client)
    response = client.post("/analytics/beacon/", _engagement(token), **ORIGIN)
    assert response.status_code == 204
    view = PageView.objects.get()
    engagement = Engagement.objects.get()
    assert engagement.view_id == view.view_id
    assert (engagement.seconds, engagement.scroll_percent, engagement.time_zone) == (
        42,
        75,
        "Europe/London",
    )
    # The script sends running totals: the later report replaces the earlier.
    client.post("/analytics/beacon/", _engagement(token, seconds="90"), **ORIGIN)
    assert list(Engagement.objects.values_list("seconds", flat=True)) == [90]


def test_an_outbound_click_keeps_the_sites_origin_only(client):
    token = _page(client)
    response = client.post(
        "/analytics/beacon/",
        {
            "token": token,
            "kind": "click",
            "href": "https://Partner.example/courses/a?email=me%40x.org#top",
        },
        **ORIGIN,
    )
    assert response.status_code == 204
    assert OutboundClick.objects.get().target == "https://partner.example"


@pytest.mark.parametrize(
    "fields",
    [
        {"token": "not-a-token"},
        {"token": ""},
        {"kind": "purchase"},
        {"seconds": "-1"},
        {"seconds": "86401"},
        {"seconds": "1e3"},
        {"seconds": "٣"},
        {"seconds": ""},
        {"scroll": "101"},
        {"scroll": "50%"},
        {"tz": "Mars/Olympus_Mons"},
        {"tz": "Europe/London" * 100},
        {"tz": "<script>"},
    ],
)
def test_hostile_or_malformed_engagement_is_refused_and_nothing_written(client, fields):
    token = _page(client)
    response = client.post(
        "/analytics/beacon/", {**_engagement(token), **fields}, **ORIGIN
    )
    assert response.status_code == 400
    _nothing_written()


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "http://testserver/courses/",  # our own site is not outbound
        "ftp://files.example/x",
        "https://",
        "https://example.org/" + "a" * 3000,
        "https://exa\tmple.org/",
        "",
    ],
)
def test_clicks_that_are_not_to_another_website_are_refused(client, href):
    token = _page(client)
    response = client.post(
        "/analytics/beacon/", {"token": token, "kind": "click", "href": href}, **ORIGIN
    )
    assert response.status_code == 400
    _nothing_written()


def test_a_token_altered_or_made_up_is_refused(client):
    token = _page(client)
    altered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    made_up = signing.dumps({"v": uuid.uuid4().hex, "c": "x"}, salt="other")
    for bad in (altered, made_up):
        response = client.post("/analytics/beacon/", _engagement(bad), **ORIGIN)
        assert response.status_code == 400
    _nothing_written()


def test_a_token_from_another_browser_is_refused(client):
    other_visit = "0" * 32
    token = beacon_token(uuid.uuid4(), other_visit)
    accepting(client)
    response = client.post("/analytics/beacon/", _engagement(token), **ORIGIN)
    assert response.status_code == 400
    _nothing_written()


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no Origin: not a browser's beacon
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-site"},
    ],
)
def test_reports_not_from_our_own_pages_are_refused(client, headers):
    token = _page(client)
    response = client.post("/analytics/beacon/", _engagement(token), **headers)
    assert response.status_code == 400
    _nothing_written()


def test_the_csrf_check_is_replaced_not_dropped(client):
    """A CSRF-enforcing client: the token and origin are what protect it."""
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    token = _page(strict)
    assert (
        strict.post("/analytics/beacon/", _engagement(token), **ORIGIN).status_code
        == 204
    )
    assert (
        strict.post(
            "/analytics/beacon/", _engagement(token), HTTP_ORIGIN="https://evil.example"
        ).status_code
        == 400
    )


def test_nothing_is_written_once_the_visitor_has_rejected(client):
    token = _page(client)
    client.cookies["cookie_choice"] = "rejected"
    response = client.post("/analytics/beacon/", _engagement(token), **ORIGIN)
    assert response.status_code == 204
    _nothing_written()


def test_nothing_is_written_with_global_privacy_control(client):
    token = _page(client)
    response = client.post(
        "/analytics/beacon/", _engagement(token), HTTP_SEC_GPC="1", **ORIGIN
    )
    assert response.status_code == 204
    _nothing_written()


def test_nothing_is_written_for_a_person_who_has_since_objected(client):
    person = UserFactory.create()
    record_consent(person, "analytics", "web", True, source="cookie_banner")
    client.force_login(person)
    token = _page(client)
    record_consent(person, "analytics", "web", False, source="preferences")
    response = client.post("/analytics/beacon/", _engagement(token), **ORIGIN)
    assert response.status_code == 204
    _nothing_written()


def test_reports_are_limited_per_visit_per_minute(client, settings):
    settings.ANALYTICS_BEACON_PER_MINUTE = 3
    services._local_counts.clear()
    token = _page(client)
    click = {"token": token, "kind": "click", "href": "https://example.org/"}
    codes = [
        client.post("/analytics/beacon/", click, **ORIGIN).status_code for _ in range(5)
    ]
    assert codes == [204, 204, 204, 429, 429]
    assert OutboundClick.objects.count() == 3


def test_the_limit_holds_across_processes_through_the_shared_cache(client, settings):
    settings.ANALYTICS_BEACON_PER_MINUTE = 3
    token = _page(client)
    click = {"token": token, "kind": "click", "href": "https://example.org/"}
    codes = []
    for _ in range(4):
        services._local_counts.clear()  # as if each came to another process
        codes.append(client.post("/analytics/beacon/", click, **ORIGIN).status_code)
    assert codes == [204, 204, 204, 429]


def test_with_redis_down_the_beacon_answers_and_stays_limited(
    client, settings, request
):
    token = _page(client)
    settings.ANALYTICS_BEACON_PER_MINUTE = 2
    services._local_counts.clear()
    request.getfixturevalue("redis_down")
    click = {"token": token, "kind": "click", "href": "https://example.org/"}
    codes = [
        client.post("/analytics/beacon/", click, **ORIGIN).status_code for _ in range(3)
    ]
    assert codes == [204, 204, 429]
    assert OutboundClick.objects.count() == 2
    assert client.get("/").status_code == 200


def test_the_beacon_is_post_only(client):
    accepting(client)
    assert client.get("/analytics/beacon/").status_code == 405
