"""Measuring campaigns (issue 20, privacy notice 1.7 "Measuring our offers"):
delivered, opened (a first-party image), links followed (first-party links
with a random code), bookings within the window after an open or click, and
unsubscribes, per campaign and per partner; never for anyone who did not
accept analytics or who objected to analytics or profiling."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone

from bookings.models import Booking
from consent.services import record_consent
from marketing import selectors, services
from marketing.models import Delivery
from privacy import services as privacy_services
from tests.bookings.factories import BookingFactory

from .factories import EMAIL, CampaignFactory, person

pytestmark = pytest.mark.django_db

BODY = (
    "Hello {first_name},\n\nOur spring courses: https://cpd.example.org/courses/spring.\n"
    "Book soon at https://cpd.example.org/book?x=1"
)
MEASURED = [*EMAIL, ("analytics", "web")]


def send_now(campaign, capture):
    with capture(execute=True):
        return services.send_campaign(campaign)


def html_of(message) -> str:
    ((html, kind),) = message.alternatives
    assert kind == "text/html"
    return html


def measured_links(text: str) -> list[str]:
    return re.findall(r"http://testserver/m/[^\s\"<]+/\d+/", text)


def pixel(text: str) -> str:
    (src,) = re.findall(r'<img src="http://testserver(/m/[^"]+/open\.gif)"', text)
    return src


def test_a_measured_person_gets_first_party_links_and_image_with_no_personal_data(
    django_capture_on_commit_callbacks,
):
    ada = person(consents=MEASURED, first_name="Ada", email="ada.lovelace@example.org")
    campaign = send_now(
        CampaignFactory.create(body=BODY), django_capture_on_commit_callbacks
    )
    (message,) = mail.outbox
    html = html_of(message)
    links = measured_links(message.body)
    assert len(links) == 2
    assert links == measured_links(html)
    assert pixel(html)
    delivery = Delivery.objects.get(campaign=campaign, person=ada)
    for url in [*links, pixel(html)]:
        assert delivery.track_code in url
        for personal in ("ada", "lovelace", str(ada.pk) + "/", "example.org"):
            assert personal not in url.lower().replace("http://testserver", "")
    # The reader still sees where a link goes.
    assert ">https://cpd.example.org/courses/spring</a>." in html
    assert campaign.links == [
        "https://cpd.example.org/courses/spring",
        "https://cpd.example.org/book?x=1",
    ]


@pytest.mark.parametrize(
    "how",
    ["no analytics", "restricted", "objected to profiling", "analytics withdrawn"],
)
def test_nobody_who_did_not_allow_measuring_gets_an_image_or_measured_links(
    how, django_capture_on_commit_callbacks, first_policies
):
    consents = EMAIL if how == "no analytics" else MEASURED
    someone = person(consents=consents, processing_restricted=how == "restricted")
    if how == "objected to profiling":
        privacy_services.object_to_profiling(someone)
    if how == "analytics withdrawn":
        record_consent(someone, "analytics", "web", False, "cookie_banner")
    campaign = CampaignFactory.create(body=BODY)
    send_now(campaign, django_capture_on_commit_callbacks)
    if how == "restricted":
        assert mail.outbox == []  # restriction stops the message itself
        return
    (message,) = mail.outbox
    html = html_of(message)
    assert "<img" not in html
    assert measured_links(message.body + html) == []
    assert "https://cpd.example.org/courses/spring" in message.body
    assert 'href="https://cpd.example.org/book?x=1"' in html
    assert Delivery.objects.get(campaign=campaign).track_code is None


def _sent_to(consents, capture, **fields):
    someone = person(consents=consents, **fields)
    campaign = send_now(
        CampaignFactory.create(body=BODY, **fields.pop("campaign", {})), capture
    )
    (message,) = mail.outbox
    return someone, campaign, message


def test_opening_and_following_links_are_recorded_once_and_lead_to_the_link(
    client, django_capture_on_commit_callbacks
):
    someone, campaign, message = _sent_to(MEASURED, django_capture_on_commit_callbacks)
    image = client.get(pixel(html_of(message)))
    assert (image.status_code, image["Content-Type"]) == (200, "image/gif")
    assert "no-cache" in image["Cache-Control"]
    client.get(pixel(html_of(message)))
    first, second = measured_links(message.body)
    followed = client.get(second.removeprefix("http://testserver"))
    assert (followed.status_code, followed["Location"]) == (
        302,
        "https://cpd.example.org/book?x=1",
    )
    client.get(first.removeprefix("http://testserver"))
    delivery = Delivery.objects.get(campaign=campaign, person=someone)
    assert delivery.opened_at is not None
    assert delivery.clicked_at is not None
    assert delivery.clicks == 2
    assert delivery.engaged_at == delivery.opened_at
    m = selectors.campaign_measures(campaign)
    assert (m.delivered, m.measured, m.opened, m.clicked) == (1, 1, 1, 1)


def test_a_link_followed_before_the_image_counts_as_opened(
    client, django_capture_on_commit_callbacks
):
    _someone, campaign, message = _sent_to(MEASURED, django_capture_on_commit_callbacks)
    client.get(measured_links(message.body)[0].removeprefix("http://testserver"))
    delivery = Delivery.objects.get(campaign=campaign)
    assert delivery.opened_at == delivery.clicked_at == delivery.engaged_at


@pytest.mark.parametrize(
    "path",
    [
        "/m/not-a-code/0/",
        "/m/{code}/2/",
        "/m/{code}/99999999999999999999/",
        "/m/" + "x" * 300 + "/0/",
    ],
)
def test_an_unknown_code_or_link_number_is_a_clear_404_and_never_a_redirect(
    client, path, django_capture_on_commit_callbacks
):
    _someone, campaign, _message = _sent_to(
        MEASURED, django_capture_on_commit_callbacks
    )
    code = Delivery.objects.get(campaign=campaign).track_code
    page = client.get(path.format(code=code))
    assert page.status_code == 404
    assert "Link not found" in page.content.decode()
    assert Delivery.objects.get(campaign=campaign).clicked_at is None


def test_the_image_is_the_same_for_an_unknown_code_and_records_nothing(client):
    page = client.get("/m/nobody/open.gif")
    assert (page.status_code, page["Content-Type"]) == (200, "image/gif")


def test_after_withdrawing_analytics_nothing_more_is_recorded_but_links_still_work(
    client, django_capture_on_commit_callbacks
):
    someone, campaign, message = _sent_to(MEASURED, django_capture_on_commit_callbacks)
    record_consent(someone, "analytics", "web", False, "cookie_banner")
    client.get(pixel(html_of(message)))
    followed = client.get(
        measured_links(message.body)[0].removeprefix("http://testserver")
    )
    assert followed["Location"] == "https://cpd.example.org/courses/spring"
    delivery = Delivery.objects.get(campaign=campaign)
    assert (delivery.opened_at, delivery.clicked_at, delivery.clicks) == (None, None, 0)


@pytest.mark.parametrize("objection", ["analytics", "profiling", "restriction"])
def test_an_objection_or_restriction_forgets_what_was_measured(
    client, objection, django_capture_on_commit_callbacks, first_policies
):
    someone, campaign, message = _sent_to(MEASURED, django_capture_on_commit_callbacks)
    link = measured_links(message.body)[0].removeprefix("http://testserver")
    client.get(link)
    assert Delivery.objects.get(campaign=campaign).clicked_at is not None
    if objection == "analytics":
        privacy_services.object_to_analytics(someone)
    elif objection == "profiling":
        privacy_services.object_to_profiling(someone)
    else:
        privacy_services.restrict_processing(someone)
    delivery = Delivery.objects.get(campaign=campaign)
    assert (delivery.track_code, delivery.opened_at, delivery.clicked_at) == (
        None,
        None,
        None,
    )
    assert (delivery.clicks, delivery.engaged_at) == (0, None)
    assert client.get(link).status_code == 404  # the code is gone
    m = selectors.campaign_measures(campaign)
    assert (m.delivered, m.measured, m.opened, m.clicked) == (1, 0, 0, 0)


def test_bookings_count_only_within_the_window_after_opening_or_clicking(
    client, settings, django_capture_on_commit_callbacks
):
    settings.CAMPAIGN_ATTRIBUTION_DAYS = 14
    someone, campaign, message = _sent_to(MEASURED, django_capture_on_commit_callbacks)
    unmeasured = person(consents=EMAIL)
    Delivery.objects.create(campaign=campaign, person=unmeasured, status="sent")
    client.get(pixel(html_of(message)))
    opened = Delivery.objects.get(campaign=campaign, person=someone).engaged_at

    def booked(person_, days):
        b = BookingFactory.create(person=person_)
        Booking.objects.filter(pk=b.pk).update(
            created_at=opened + dt.timedelta(days=days)
        )

    booked(someone, -1)  # before opening: not the campaign's
    booked(someone, 3)
    booked(someone, 13.9)
    booked(someone, 15)  # after the window
    booked(unmeasured, 2)  # never measured, never attributed
    m = selectors.campaign_measures(campaign)
    assert (m.bookings, m.bookers) == (2, 1)


def test_unsubscribes_are_counted_per_campaign_once(
    client, django_capture_on_commit_callbacks
):
    someone, campaign, message = _sent_to(EMAIL, django_capture_on_commit_callbacks)
    other = CampaignFactory.create(status="sent")
    Delivery.objects.create(campaign=other, person=someone, status="sent")
    (link,) = re.findall(r"http://testserver(/unsubscribe/\S+/)", message.body)
    assert client.post(link).status_code == 200
    assert client.post(link).status_code == 200
    assert selectors.campaign_measures(campaign).unsubscribed == 1
    assert selectors.campaign_measures(other).unsubscribed == 0
    # An old link without the campaign still unsubscribes (counted nowhere).
    old = services.unsubscribe_url(someone, purpose="marketing", channel="sms")
    assert client.get(old.removeprefix("http://testserver")).status_code == 200


def test_staff_see_each_campaign_and_each_partner_in_admin(
    marketing_client,
    client,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    consents = [("partner_marketing", "email"), ("analytics", "web")]
    fans = [person(consents=consents) for _ in range(3)]
    for partner, subject in [
        ("Westmoor College", "A"),
        ("Westmoor College", "B"),
        ("Eastfield Trust", "C"),
    ]:
        mail.outbox = []
        campaign = CampaignFactory.create(
            purpose="partner_marketing",
            partner_name=partner,
            subject=subject,
            body=BODY,
        )
        send_now(campaign, django_capture_on_commit_callbacks)
        if subject == "A":
            client.get(pixel(html_of(mail.outbox[0])))
            first_campaign = campaign
    unsubscribe = services.unsubscribe_url(
        fans[1], purpose="partner_marketing", channel="email", campaign_id=campaign.pk
    )
    client.post(unsubscribe.removeprefix("http://testserver"))
    with django_assert_max_num_queries(12):
        page = marketing_client.get("/admin/marketing/campaign/results/")
    html = page.content.decode()
    assert page.status_code == 200
    partners = html[html.index('id="by-partner"') :]
    rows = re.findall(
        r'<th scope="row">([^<]+)</th>\s*<td>(\d+)</td>\s*<td>(\d+)</td>\s*<td>(\d+)</td>\s*<td>(\d+) ',
        partners,
    )
    assert rows == [
        ("Eastfield Trust", "1", "3", "3", "0"),
        ("Westmoor College", "2", "6", "6", "1"),
    ]
    assert "1 (33%)" in partners  # Eastfield: one of three unsubscribed
    change = marketing_client.get(
        f"/admin/marketing/campaign/{first_campaign.pk}/change/"
    )
    assert "Bookings within 14 days" in change.content.decode()
    assert "1 (33%)" in change.content.decode()  # one of three measured opened


def test_a_learner_cannot_see_campaign_results(client):
    learner = person()
    client.force_login(learner)
    page = client.get("/admin/marketing/campaign/results/")
    assert page.status_code == 302
    assert "/admin/login/" in page["Location"]


def test_results_of_a_large_campaign_take_the_same_few_queries(
    django_assert_max_num_queries,
):
    campaign = CampaignFactory.create(status="sent", started_at=timezone.now())
    Delivery.objects.bulk_create(
        Delivery(
            campaign=campaign, person=person(), status="sent", engaged_at=timezone.now()
        )
        for _ in range(20)
    )
    with django_assert_max_num_queries(1):
        m = selectors.campaign_measures(campaign)
    assert m.delivered == 20
