"""The views exempt from the claim that still accept a POST: each is shown to
do its work once when the same POST comes twice."""

import inspect
from collections.abc import Callable

import pytest
from django.core import mail
from django.test import Client, TestCase

from marketing import services as marketing_services
from tests.funding.conftest import support_token
from tests.funding.factories import FundingRequestFactory

from .test_every_post_form import EXEMPT, row_counts, signed_in, verified_person


def cookies():
    client = signed_in(verified_person())
    return client, "/cookies/", {"analytics": "accept"}, set()


def unsubscribe():
    from consent.models import ConsentRecord

    person = verified_person()
    ConsentRecord.objects.create(
        person=person,
        purpose="marketing",
        channel="email",
        granted=True,
        source=ConsentRecord.Source.PREFERENCES,
    )
    token = marketing_services.unsubscribe_token(
        person, purpose="marketing", channel="email"
    )
    return Client(), f"/unsubscribe/{token}/", {}, set()


def support():
    from funding import services

    funding_request = FundingRequestFactory.create()
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.submit_funding_request(funding_request, by=funding_request.person)
    token = support_token(funding_request.manager_email)
    return (
        Client(),
        f"/funding/support/{token}/",
        {"supported": "yes", "statement": "I support this."},
        set(),
    )


def download():
    # Each download is written to the audit trail; nothing else.
    return (
        signed_in(verified_person()),
        "/my-data/download/",
        {},
        {"privacy.AuditEvent"},
    )


def collect():
    # The recipient's one-time link: the first POST gives the file and is
    # audited; the second is refused (410) and records nothing.
    from tests.privacy.test_transmission import sent_transmission

    _transmission, token = sent_transmission()
    return Client(), f"/data-transfer/{token}/", {}, {"privacy.AuditEvent"}


class _Stripe(Client):
    """Posts one signed webhook event, as Stripe does, whatever `data` is."""

    def __init__(self, event):
        super().__init__()
        self.event = event

    def post(self, url, data=None, **kwargs):
        from tests.payments.stripe_fake import signed_event

        body, signature = signed_event(self.event)
        return super().post(
            url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )


def stripe_webhook(settings):
    # Stripe delivers the same completed-checkout event twice: one payment.
    from payments.models import CardPayment
    from payments.services import reference_for
    from tests.payments.stripe_fake import SECRET_KEY, WEBHOOK_SECRET

    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    payment = CardPayment.objects.create(
        reference=reference_for(person=verified_person()),
        amount=5,
        checkout_session_id="cs_test_twice",
    )
    event = {
        "id": "evt_twice",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": payment.checkout_session_id,
                "payment_status": "paid",
                "status": "complete",
                "payment_intent": "pi_twice",
                "amount_total": 500,
            }
        },
    }
    return _Stripe(event), "/payments/stripe/webhook/", {}, set()


class _Browser(Client):
    """Posts as a page's own script does: from our origin."""

    def post(self, url, data=None, **kwargs):
        return super().post(url, data, HTTP_ORIGIN="http://testserver", **kwargs)


def beacon():
    # The same time-on-page report twice: one engagement row, updated in place.
    import re

    from analytics.services import flush_page_views

    client = _Browser()
    client.cookies["cookie_choice"] = "accepted"
    client.cookies["cpd_analytics_id"] = "idempotency-test-browser"
    page = client.get("/").content.decode()
    token = re.search(r'data-token="([^"]+)"', page).group(1)
    flush_page_views()
    data = {"token": token, "kind": "engagement", "seconds": "5", "scroll": "40"}
    return client, "/analytics/beacon/", data, set()


POST_EXEMPT: dict[str, Callable] = {
    "analytics:beacon": beacon,
    "payments:stripe_webhook": stripe_webhook,
    "consent:cookies": cookies,
    "marketing:unsubscribe": unsubscribe,
    "funding:support": support,
    "privacy:download": download,
    "privacy:collect": collect,
}


def test_every_exempt_view_that_takes_a_post_is_tested_here():
    takes_post = {n for n, why in EXEMPT.items() if not why.startswith("GET only")}
    assert takes_post == set(POST_EXEMPT)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(POST_EXEMPT))
def test_an_exempt_post_sent_twice_does_its_work_once(
    name, settings, django_capture_on_commit_callbacks
):
    make = POST_EXEMPT[name]
    wants_settings = inspect.signature(make).parameters
    client, url, data, may_grow = make(settings) if wants_settings else make()
    mail.outbox.clear()
    before = row_counts()
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, data)
    assert first.status_code in (200, 204, 302)  # 204: the analytics beacon
    after_first, mails = row_counts(), len(mail.outbox)
    assert after_first != before or may_grow
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, data)
    after_second = row_counts()
    changed = {k for k in after_second if after_second[k] != after_first[k]}
    assert changed <= may_grow
    assert len(mail.outbox) == mails
