import pytest
from django.test import Client

from consent.models import ConsentRecord
from consent.selectors import can_contact
from marketing import services

from .factories import EMAIL, person


def link(p, purpose="marketing", channel="email"):
    token = services.unsubscribe_token(p, purpose=purpose, channel=channel)
    return f"/unsubscribe/{token}/"


@pytest.mark.django_db
def test_a_get_on_the_link_changes_nothing(client):
    p = person(consents=EMAIL)
    before = ConsentRecord.objects.count()
    response = client.get(link(p))
    assert response.status_code == 200
    assert b"Unsubscribe</button>" in response.content
    assert b"offers and news from us</strong> by <strong>email" in response.content
    assert ConsentRecord.objects.count() == before
    assert can_contact(p, "email", "marketing")


@pytest.mark.django_db
def test_a_post_withdraws_consent_for_that_purpose_and_channel_only(client):
    p = person(consents=[*EMAIL, ("marketing", "sms")])
    response = client.post(link(p))
    assert response.status_code == 200
    assert b"You have unsubscribed" in response.content
    record = ConsentRecord.objects.filter(person=p).first()
    assert (record.purpose, record.channel, record.granted, record.source) == (
        "marketing",
        "email",
        False,
        ConsentRecord.Source.UNSUBSCRIBE,
    )
    assert record.get_source_display() == "Unsubscribe link"
    assert not can_contact(p, "email", "marketing")
    assert can_contact(p, "sms", "marketing")
    # A second click records nothing new.
    client.post(link(p))
    assert ConsentRecord.objects.filter(person=p, granted=False).count() == 1


@pytest.mark.django_db
def test_one_click_post_from_a_mail_client_needs_no_login_or_csrf_token():
    p = person(consents=EMAIL)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        link(p),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not can_contact(p, "email", "marketing")


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_token_is_refused_with_a_clear_page(client, method):
    victim = person(consents=EMAIL)
    other = person(consents=EMAIL)
    mine = services.unsubscribe_token(other, purpose="marketing", channel="email")
    forged = mine.replace(
        services.unsubscribe_token(other, purpose="marketing", channel="email").split(
            ":"
        )[0],
        services.unsubscribe_token(victim, purpose="marketing", channel="email").split(
            ":"
        )[0],
    )
    before = ConsentRecord.objects.count()
    for bad in (forged, mine[:-2] + "xx", "nonsense"):
        response = getattr(client, method)(f"/unsubscribe/{bad}/")
        assert response.status_code == 400
        assert b"This unsubscribe link is not valid" in response.content
    assert ConsentRecord.objects.count() == before
    assert can_contact(victim, "email", "marketing")


@pytest.mark.django_db
def test_a_token_is_bound_to_its_purpose_and_channel():
    p = person()
    token = services.unsubscribe_token(p, purpose="partner_marketing", channel="post")
    assert services.read_unsubscribe_token(token) == (p, "partner_marketing", "post")
    with pytest.raises(services.MarketingError):
        services.read_unsubscribe_token(token + "a")
