"""The rules of an unsubscribe link: which links are refused (with the message
the person sees), and what a click records the first and the second time."""

import pytest
from django.core import signing

from consent.models import ConsentRecord
from consent.selectors import can_contact
from marketing import services

from .factories import EMAIL, person

pytestmark = pytest.mark.django_db

INVALID = (
    "This unsubscribe link is not valid. It may have been changed or copied "
    "incompletely."
)


def signed(*values):
    return signing.Signer(salt=services.UNSUBSCRIBE_SALT).sign_object(list(values))


@pytest.mark.parametrize(
    "bad",
    [
        "nonsense",
        "tampered",
        "unknown purpose",
        "channel not used for the purpose",
        "person gone",
        "wrong shape",
    ],
)
def test_a_link_that_names_no_valid_choice_is_refused_with_a_clear_message(bad, client):
    p = person(consents=EMAIL)
    token = {
        "nonsense": "nonsense",
        "tampered": services.unsubscribe_token(p, purpose="marketing", channel="email")
        + "x",
        "unknown purpose": signed(p.pk, "newsletter", "email"),
        "channel not used for the purpose": signed(p.pk, "partner_marketing", "sms"),
        "person gone": signed(p.pk + 1000, "marketing", "email"),
        "wrong shape": signed(p.pk, "marketing"),
    }[bad]
    with pytest.raises(services.MarketingError) as refused:
        services.read_unsubscribe_token(token)
    assert str(refused.value) == INVALID
    response = client.post(f"/unsubscribe/{token}/")
    assert response.status_code == 400
    assert INVALID in response.content.decode()
    assert can_contact(p, "email", "marketing")


def test_the_first_click_returns_the_withdrawal_and_a_second_returns_nothing():
    p = person(consents=[*EMAIL, ("marketing", "sms")])
    token = services.unsubscribe_token(p, purpose="marketing", channel="email")

    record = services.unsubscribe(token)

    assert record == ConsentRecord.objects.filter(person=p).order_by("-pk").first()
    assert (record.person, record.purpose, record.channel, record.granted) == (
        p,
        "marketing",
        "email",
        False,
    )
    assert record.source == ConsentRecord.Source.UNSUBSCRIBE
    assert services.unsubscribe(token) is None
    assert ConsentRecord.objects.filter(person=p, granted=False).count() == 1
    assert can_contact(p, "sms", "marketing")


def test_a_link_to_withdraw_what_was_never_given_records_nothing():
    p = person()
    token = services.unsubscribe_token(p, purpose="marketing", channel="post")
    assert services.unsubscribe(token) is None
    assert not ConsentRecord.objects.filter(person=p).exists()
