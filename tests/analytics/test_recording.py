"""Page views and searches: recorded only with consent, cleaned before they
are stored, buffered so that a page pays no query for them."""

import datetime as dt
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import services, tasks
from analytics.cleaning import clean_path, clean_referrer, truncate_ip, visit_code
from analytics.middleware import TOKEN_SLOT
from analytics.models import PageView, PageViewDay, Search
from consent.services import record_consent
from courses.services import reindex_courses
from tests.accounts.factories import UserFactory
from tests.courses.factories import CourseFactory, SessionFactory

from .conftest import COOKIE_ID, accepting, token_of

pytestmark = pytest.mark.django_db

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _signed_in(client, *, analytics: bool = True, **fields):
    person = UserFactory.create(**fields)
    EmailAddress.objects.create(
        user=person, email=person.email, primary=True, verified=True
    )
    record_consent(person, "analytics", "web", analytics, source="cookie_banner")
    client.force_login(person)
    return person


def test_an_accepting_visitors_page_view_is_stored_cleaned_after_the_flush(client):
    CourseFactory.create(title="Safeguarding in practice", status="published")
    accepting(client)
    response = client.get(
        "/courses/?q=Jane+Smith+safeguarding&topic=3&topic=4",
        HTTP_REFERER="https://www.search.example/results?q=jane+smith+nhs",
        HTTP_USER_AGENT=IPHONE,
        REMOTE_ADDR="203.0.113.77",
    )
    assert response.status_code == 200
    assert not PageView.objects.exists()  # buffered, not written by the page
    assert services.flush_page_views() == 1
    view = PageView.objects.get()
    assert view.route_name == "courses:list"
    assert view.route == "courses/"
    assert view.path == "/courses/?q&topic"
    assert "Jane" not in view.path
    assert "Smith" not in view.referrer
    assert view.referrer == "https://www.search.example"
    assert view.ip_prefix == "203.0.113.0/24"
    assert (view.browser, view.browser_version, view.os, view.device) == (
        "Mobile Safari",
        "17",
        "iOS",
        "mobile",
    )
    assert view.visit == visit_code(COOKIE_ID)
    assert COOKIE_ID not in view.visit
    assert view.kind == "view"
    # The search goes to its own record, with the count the page showed.
    search = Search.objects.get()
    assert (search.terms, search.results, search.visit) == (
        "Jane Smith safeguarding",
        0,
        view.visit,
    )


def test_a_search_is_recorded_with_the_count_the_catalogue_showed_once(client):
    for n in range(3):
        SessionFactory.create(course__title=f"Wound care {n}")
    reindex_courses()
    accepting(client)
    first = client.get("/courses/?q=wound")
    assert "3 courses found" in first.content.decode()
    client.get("/courses/?q=wound")  # the whole page now comes from the cache
    client.get("/courses/?q=wound&page=1")
    client.get("/courses/?q=wound&page=2")  # a later page is the same search
    services.flush_page_views()
    assert list(Search.objects.values_list("terms", "results")) == [("wound", 3)] * 3
    assert PageView.objects.count() == 4


def test_own_referrers_keep_the_path_and_query_names_only():
    own = {"testserver"}
    assert (
        clean_referrer("http://testserver/courses/?q=my+name&page=2", own_hosts=own)
        == "/courses/?q&page"
    )
    assert clean_referrer("https://other.example/a/b?c=d", own_hosts=own) == (
        "https://other.example"
    )
    assert clean_referrer("javascript:alert(1)", own_hosts=own) == ""
    assert clean_path("/courses/", "q=x&q=y&free=1") == "/courses/?q&free"
    assert clean_path("/courses/", "") == "/courses/"
    # Our own addresses that hold a token or an id keep only their pattern.
    assert (
        clean_referrer("http://testserver/unsubscribe/s3cr3t-t0ken/", own_hosts=own)
        == "/unsubscribe/<str:token>/"
    )
    assert clean_referrer("http://testserver/no/such/page/", own_hosts=own) == ""


@pytest.mark.parametrize(
    ("address", "kept"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("10.1.2.255", "10.1.2.0/24"),
        ("2001:db8:abcd:1234:5678::1", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("not an address", ""),
        ("", ""),
    ],
)
def test_ip_addresses_are_cut_to_their_network(address, kept):
    assert truncate_ip(address) == kept


def test_ipv6_visitors_are_stored_by_their_48(client):
    accepting(client).get("/", REMOTE_ADDR="2001:db8:abcd:1234:5678::1")
    services.flush_page_views()
    assert PageView.objects.get().ip_prefix == "2001:db8:abcd::/48"


def test_the_visit_code_changes_every_day_and_is_the_same_within_a_day(client):
    day = dt.date(2026, 3, 1)
    assert visit_code(COOKIE_ID, day) == visit_code(COOKIE_ID, day)
    assert visit_code(COOKIE_ID, day) != visit_code(COOKIE_ID, day + dt.timedelta(1))
    assert visit_code(COOKIE_ID, day) != visit_code("another-cookie", day)
    accepting(client)
    for when in (day, day, day + dt.timedelta(days=1)):
        with mock.patch("analytics.cleaning.timezone.localdate", return_value=when):
            client.get("/")
    services.flush_page_views()
    codes = list(
        PageView.objects.order_by("visited_at").values_list("visit", flat=True)
    )
    assert codes[0] == codes[1] != codes[2]


def _nothing_recorded(client, **headers):
    response = client.get("/courses/?q=nursing", **headers)
    assert response.status_code == 200
    assert b"js/analytics.js" not in response.content
    services.flush_page_views()
    assert PageView.objects.count() == 0
    assert Search.objects.count() == 0


def test_nothing_is_recorded_before_a_choice(client):
    client.cookies["cpd_analytics_id"] = COOKIE_ID  # even with a stray id
    _nothing_recorded(client)


def test_nothing_is_recorded_after_rejection(client):
    client.cookies["cookie_choice"] = "rejected"
    client.cookies["cpd_analytics_id"] = COOKIE_ID
    _nothing_recorded(client)


def test_nothing_is_recorded_with_global_privacy_control(client):
    _nothing_recorded(accepting(client), HTTP_SEC_GPC="1")


def test_nothing_is_recorded_for_a_person_who_objected_to_analytics(client):
    _signed_in(client, analytics=False)
    _nothing_recorded(accepting(client))


def test_nothing_is_recorded_while_processing_is_restricted(client):
    _signed_in(client, processing_restricted=True)
    _nothing_recorded(accepting(client))


def test_nothing_is_recorded_for_an_erased_account(client):
    from django.utils import timezone

    _signed_in(client, erased_at=timezone.now())
    _nothing_recorded(accepting(client))


def test_a_signed_in_person_who_agreed_is_recorded_without_their_account(client):
    person = _signed_in(client)
    accepting(client).get("/bookings/")
    services.flush_page_views()
    view = PageView.objects.get()
    assert view.route_name == "bookings:list"
    values = [str(getattr(view, f.attname)) for f in PageView._meta.concrete_fields]
    assert str(person.pk) not in values
    assert person.email not in " ".join(values)


def test_the_back_office_and_the_beacon_are_never_recorded(client, admin_client):
    accepting(admin_client).get("/admin/")
    accepting(client).get("/healthz")
    services.flush_page_views()
    assert PageView.objects.count() == 0


def test_a_booking_made_is_the_funnels_last_step(client):
    session = SessionFactory.create()
    _signed_in(client)
    accepting(client)
    response = client.post(f"/sessions/{session.pk}/book/")
    assert response["Location"].startswith("/bookings/")
    services.flush_page_views()
    assert list(PageView.objects.values_list("kind", "route_name")) == [
        ("booking", "bookings:book")
    ]


def test_the_beacon_script_is_only_on_pages_of_visitors_who_accepted(client):
    page = accepting(client).get("/")
    assert b"js/analytics.js" in page.content
    assert token_of(page)
    assert TOKEN_SLOT not in page.content
    client.cookies["cookie_choice"] = "rejected"
    page = client.get("/")
    assert b"js/analytics.js" not in page.content
    assert TOKEN_SLOT not in page.content


def test_each_view_of_a_page_cached_whole_gets_a_token_of_its_own(client):
    accepting(client)
    tokens = {token_of(client.get("/courses/")) for _ in range(3)}
    assert len(tokens) == 3


@pytest.mark.parametrize("signed_in", [False, True])
def test_recording_adds_no_query_to_a_page(client, settings, signed_in):
    course = CourseFactory.create(status="published")
    SessionFactory.create(course=course)
    if signed_in:
        _signed_in(client)
    accepting(client)
    path = f"/courses/{course.slug}/"
    client.get(path)  # warm caches (the catalogue version, the nav)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    with_analytics = queries()
    settings.MIDDLEWARE = [
        m
        for m in settings.MIDDLEWARE
        if m != "analytics.middleware.AnalyticsMiddleware"
    ]
    client.handler.load_middleware()  # the client built its chain before
    without_analytics = queries()
    assert with_analytics == without_analytics
    assert services.flush_page_views() == 2  # the warm-up and the measured view


def test_with_redis_down_pages_answer_and_views_are_written_at_once(client, redis_down):
    accepting(client)
    for path in ("/", "/courses/?q=x", "/privacy/"):
        assert client.get(path).status_code == 200
    assert PageView.objects.count() == 3
    assert services.flush_page_views() == 0  # nothing to flush, nothing fails


def test_the_buffer_is_capped_so_a_stopped_beat_cannot_fill_redis(client, monkeypatch):
    monkeypatch.setattr(services, "BUFFER_MAX", 2)
    accepting(client)
    for path in ("/", "/privacy/", "/cookies/"):
        client.get(path)
    assert services.flush_page_views() == 2
    assert sorted(PageView.objects.values_list("route_name", flat=True)) == [
        "consent:cookies",
        "consent:privacy",
    ]


def test_the_daily_counts_add_visits_and_are_rebuilt_whole(client):
    day = timezone.localdate()
    accepting(client)
    client.get("/courses/")
    client.get("/courses/")
    accepting(client, "another-browser").get("/courses/")
    assert tasks.flush_page_views.delay().get() == 3
    counts = {
        (r.route_name, r.path): (r.views, r.visits)
        for r in PageViewDay.objects.filter(day=day)
    }
    assert counts == {("", ""): (3, 2), ("courses:list", ""): (3, 2)}
    # Again, with nothing new: the same counts, not twice them.
    services.roll_up_page_views()
    assert PageViewDay.objects.get(day=day, route_name="").views == 3


def test_views_flushed_after_midnight_count_on_their_own_day(client):
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    services.roll_up_page_views(days=[yesterday])  # rolled up before midnight
    accepting(client)
    with mock.patch(
        "analytics.middleware.timezone.now",
        return_value=timezone.now() - dt.timedelta(days=1),
    ):
        client.get("/privacy/")
    services.flush_page_views()
    services.roll_up_page_views()  # the task's default: yesterday and today
    assert PageViewDay.objects.get(day=yesterday, route_name="").views == 1


def test_only_pages_that_were_shown_are_recorded(client):
    accepting(client)
    client.get("/courses/no-such-course/")  # 404
    client.get("/cookies/", HTTP_ACCEPT="text/html")
    client.post("/cookies/", {"analytics": "accept"})  # a form, not a page view
    client.get("/static/js/analytics.js")
    services.flush_page_views()
    assert list(PageView.objects.values_list("route_name", flat=True)) == [
        "consent:cookies"
    ]


def test_addresses_holding_a_token_or_an_id_are_kept_as_their_pattern(client):
    from tests.funding.factories import FundingRequestFactory

    person = _signed_in(client)
    funding = FundingRequestFactory.create(person=person)
    course = CourseFactory.create(slug="public-course")
    SessionFactory.create(course=course)
    accepting(client)
    assert client.get(f"/funding/{funding.pk}/").status_code == 200
    assert client.get("/courses/public-course/").status_code == 200
    services.flush_page_views()
    assert sorted(PageView.objects.values_list("path", flat=True)) == [
        "/courses/public-course/",
        "/funding/<int:pk>/",
    ]


def test_a_failure_to_record_leaves_the_page_whole_and_without_the_script(
    client, monkeypatch
):
    def broken(event):
        raise RuntimeError("Redis and the database are both gone")

    monkeypatch.setattr(services, "record_page_view", broken)
    page = accepting(client).get("/")
    assert page.status_code == 200
    assert b"js/analytics.js" not in page.content
    assert TOKEN_SLOT not in page.content
