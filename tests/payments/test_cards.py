"""Paying by card through Stripe Checkout, against the Stripe-compatible
server on loopback (tests/payments/stripe_server.py): the payer's side is
driven over HTTP as a browser would (the browser journey itself is in
tests/e2e/test_payments_e2e.py), and webhooks are delivered by the tests so
they can come twice, late, out of order or forged."""

import datetime as dt
from decimal import Decimal

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import Booking, Transaction
from payments import services
from payments.models import CardPayment, CardRefund
from tests.accounts.factories import member_of, verified_person
from tests.courses.factories import CourseFactory, SessionFactory
from tests.payments.stripe_fake import pay_on_hosted_page, signed_event

pytestmark = pytest.mark.django_db

WEBHOOK = "/payments/stripe/webhook/"


@pytest.fixture
def paid_place(card_payments):
    person = verified_person()
    session = SessionFactory(course=CourseFactory(price=Decimal("220.00")), capacity=5)
    booking = booking_services.book_session(person, session)
    return booking


def _start(client, person) -> CardPayment:
    client.force_login(person)
    response = client.post(reverse("payments:pay_card"))
    assert response.status_code == 302
    payment = CardPayment.objects.get(reference__person=person, status="open")
    assert response["Location"] == reverse("payments:card_go", args=[payment.pk])
    go = client.get(response["Location"])
    assert go.status_code == 302
    assert go["Location"] == payment.checkout_url
    return payment


def _paid_by_card(client, person) -> CardPayment:
    """The person pays their balance on Stripe's page and comes back."""
    payment = _start(client, person)
    pay_on_hosted_page(payment.checkout_url)
    client.get(reverse("payments:card_payment", args=[payment.pk]))
    payment.refresh_from_db()
    return payment


def _ledger(person):
    return list(
        Transaction.objects.filter(person=person).values_list("kind", "amount", "means")
    )


def _owed(person) -> Decimal:
    return services.balance_of(services.reference_for(person=person))


def _event(card_payments, kind: str, payment: CardPayment) -> dict:
    session = requests.get(
        f"{card_payments}/v1/checkout/sessions/{payment.checkout_session_id}",
        headers={"Authorization": "Bearer sk_test_cpd_booking"},
        timeout=5,
    ).json()
    return {"id": f"evt_{kind}_{payment.pk}", "type": kind, "data": {"object": session}}


def _deliver(client, event, **kwargs):
    body, signature = signed_event(event, **kwargs)
    return client.post(
        WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def test_a_learner_pays_a_paid_place_by_card_and_comes_back_paid(client, paid_place):
    person = paid_place.person
    client.force_login(person)
    page = client.get(reverse("bookings:transactions"))
    assert "Pay £220.00 by card" in page.content.decode()

    payment = _start(client, person)
    assert payment.amount == Decimal("220.00")
    paid = pay_on_hosted_page(payment.checkout_url)
    assert paid.status_code == 303
    assert paid.headers["Location"].endswith(
        reverse("payments:card_payment", args=[payment.pk])
    )

    back = client.get(reverse("payments:card_payment", args=[payment.pk]))
    html = back.content.decode()
    assert "Payment received" in html
    assert "£220.00 paid by card" in html
    payment.refresh_from_db()
    assert payment.status == "paid"
    assert payment.payment_intent_id.startswith("pi_")
    assert _owed(person) == 0
    assert _ledger(person) == [
        ("charge", Decimal("220.00"), ""),
        ("payment", Decimal("-220.00"), "card"),
    ]
    # The place was booked at once and stays booked.
    paid_place.refresh_from_db()
    assert paid_place.status == Booking.Status.CONFIRMED
    # The receipt names the means.
    receipt = client.get(reverse("payments:receipt", args=[payment.transaction_id]))
    assert "Card" in receipt.content.decode()


def test_a_double_submit_opens_one_checkout_session(client, paid_place):
    first = _start(client, paid_place.person)
    again = client.post(reverse("payments:pay_card"))
    assert again.status_code == 302
    assert CardPayment.objects.count() == 1
    assert again["Location"] == reverse("payments:card_go", args=[first.pk])


def test_a_new_amount_closes_the_old_session_so_it_cannot_be_paid(client, paid_place):
    old = _start(client, paid_place.person)
    booking_services.book_session(
        paid_place.person,
        SessionFactory(course=CourseFactory(price=Decimal("30.00")), capacity=5),
    )
    new = _start(client, paid_place.person)
    assert new.pk != old.pk
    assert new.amount == Decimal("250.00")
    old.refresh_from_db()
    assert old.status == "expired"
    # Stripe's page for the old session no longer takes money.
    assert pay_on_hosted_page(old.checkout_url).status_code == 410


def test_the_webhook_alone_records_the_payment_and_a_repeat_records_nothing(
    client, paid_place, card_payments
):
    payment = _start(client, paid_place.person)
    pay_on_hosted_page(payment.checkout_url)
    event = _event(card_payments, "checkout.session.completed", payment)

    for _ in range(3):
        response = _deliver(client, event)
        assert response.status_code == 200
    assert Transaction.objects.filter(kind="payment", means="card").count() == 1
    assert _owed(paid_place.person) == 0
    # The return page afterwards shows it paid, and records nothing more.
    page = client.get(reverse("payments:card_payment", args=[payment.pk]))
    assert "Payment received" in page.content.decode()
    assert Transaction.objects.filter(kind="payment").count() == 1


def test_events_out_of_order_never_unpay_a_payment(client, paid_place, card_payments):
    payment = _start(client, paid_place.person)
    pay_on_hosted_page(payment.checkout_url)
    completed = _event(card_payments, "checkout.session.completed", payment)
    expired = {
        "id": "evt_late_expiry",
        "type": "checkout.session.expired",
        "data": {"object": {**completed["data"]["object"], "status": "expired"}},
    }
    # An expiry first (delivered late from an earlier attempt), then the
    # completion: the money that moved is recorded.
    assert _deliver(client, expired).status_code == 200
    assert _deliver(client, completed).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "paid"
    # An expiry after the completion changes nothing.
    assert _deliver(client, expired).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "paid"
    assert Transaction.objects.filter(kind="payment", means="card").count() == 1


def test_a_forged_stale_or_unsigned_webhook_is_refused_and_changes_nothing(
    client, paid_place, card_payments
):
    payment = _start(client, paid_place.person)
    pay_on_hosted_page(payment.checkout_url)
    event = _event(card_payments, "checkout.session.completed", payment)

    forged = _deliver(client, event, secret="whsec_someone_else")
    stale = _deliver(client, event, at=int(timezone.now().timestamp()) - 3600)
    unsigned = client.post(WEBHOOK, b"{}", content_type="application/json")
    garbage = client.post(
        WEBHOOK,
        b"\x00not json",
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=00",
    )
    for response in (forged, stale, unsigned, garbage):
        assert response.status_code == 400
    assert not Transaction.objects.filter(kind="payment").exists()
    # GET is not a webhook.
    assert client.get(WEBHOOK).status_code == 405


def test_a_session_we_did_not_open_is_ignored(client, card_payments):
    event = {
        "id": "evt_stranger",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": "cs_test_not_ours",
                "payment_status": "paid",
                "payment_intent": "pi_x",
                "amount_total": 100,
            }
        },
    }
    response = _deliver(client, event)
    assert response.status_code == 200
    assert response.content == b"ignored"
    assert not Transaction.objects.filter(kind="payment").exists()


def test_a_declined_card_leaves_the_place_booked_and_offers_a_retry(client, paid_place):
    payment = _start(client, paid_place.person)
    declined = pay_on_hosted_page(payment.checkout_url, card="4000000000000002")
    assert declined.status_code == 200
    assert "Your card was declined." in declined.text

    # The payer gives up and goes back (Stripe's "Back" link: the cancel URL).
    back = client.get(reverse("payments:card_cancelled", args=[payment.pk]))
    html = back.content.decode()
    assert "You have not paid" in html
    assert "stay booked and £220.00 is still owed" in html
    assert "Try paying £220.00 by card again" in html
    paid_place.refresh_from_db()
    assert paid_place.status == Booking.Status.CONFIRMED
    assert not Transaction.objects.filter(kind="payment").exists()

    # Trying again reuses the open session, and a good card pays it.
    retry = _start(client, paid_place.person)
    assert retry.pk == payment.pk
    assert pay_on_hosted_page(retry.checkout_url).status_code == 303
    page = client.get(reverse("payments:card_payment", args=[payment.pk]))
    assert "Payment received" in page.content.decode()


def test_an_in_time_cancellation_is_refunded_to_the_card_once_stripe_confirms(
    client, paid_place, card_payments, django_capture_on_commit_callbacks
):
    person = paid_place.person
    payment = _paid_by_card(client, person)

    with django_capture_on_commit_callbacks(execute=True):
        booking_services.cancel_booking(paid_place, person)

    refund = CardRefund.objects.get()
    assert refund.amount == Decimal("220.00")
    assert refund.status == "succeeded"  # the task ran after commit (eager)
    assert refund.stripe_refund_id.startswith("re_")
    assert _ledger(person) == [
        ("charge", Decimal("220.00"), ""),
        ("payment", Decimal("-220.00"), "card"),
        ("refund", Decimal("-220.00"), ""),
        ("refund_paid", Decimal("220.00"), "card"),
    ]
    assert _owed(person) == 0
    # Stripe holds the one refund for that payment.
    payment.refresh_from_db()
    refunds = requests.get(
        f"{card_payments}/v1/refunds",
        headers={"Authorization": "Bearer sk_test_cpd_booking"},
        timeout=5,
    ).json()["data"]
    assert [(r["amount"], r["payment_intent"]) for r in refunds] == [
        (22000, payment.payment_intent_id)
    ]
    # Stripe's own refund.created event, delivered twice, adds nothing.
    event = {
        "id": "evt_refund",
        "type": "refund.created",
        "data": {"object": refunds[0]},
    }
    assert _deliver(client, event).status_code == 200
    assert _deliver(client, event).status_code == 200
    assert Transaction.objects.filter(kind="refund_paid").count() == 1
    page = client.get(reverse("bookings:transactions")).content.decode()
    assert "Refund paid: Refund to your card" in page


def test_a_refund_stripe_has_not_confirmed_is_not_on_the_ledger(
    client, paid_place, monkeypatch, django_capture_on_commit_callbacks
):
    from payments import gateway

    person = paid_place.person
    _paid_by_card(client, person)
    monkeypatch.setattr(
        gateway,
        "create_refund",
        lambda **kw: gateway.Refund(id="re_pending_1", status="pending"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.cancel_booking(paid_place, person)
    refund = CardRefund.objects.get()
    assert refund.status == "pending"
    assert not Transaction.objects.filter(kind="refund_paid").exists()
    assert _owed(person) == Decimal("-220.00")  # in credit until the money goes

    event = {
        "id": "evt_refund_updated",
        "type": "refund.updated",
        "data": {"object": {"id": "re_pending_1", "status": "succeeded"}},
    }
    assert _deliver(client, event).status_code == 200
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert _owed(person) == 0


def test_a_refund_stripe_could_not_reach_is_asked_again_by_the_sweep(
    client, paid_place, monkeypatch, django_capture_on_commit_callbacks
):
    from payments import gateway

    person = paid_place.person
    _paid_by_card(client, person)

    def down(**kwargs):
        raise gateway.CardGatewayError("down")

    monkeypatch.setattr(gateway, "create_refund", down)
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.cancel_booking(paid_place, person)
    refund = CardRefund.objects.get()
    assert (refund.status, refund.attempts) == ("pending", 1)
    monkeypatch.undo()

    CardRefund.objects.filter(pk=refund.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert services.check_card_refunds() == 1
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert _owed(person) == 0


def test_a_late_cancellation_gives_nothing_back(client, paid_place):
    person = paid_place.person
    _paid_by_card(client, person)
    session = paid_place.session
    session.starts_at = timezone.now() + dt.timedelta(hours=2)
    session.ends_at = session.starts_at + dt.timedelta(hours=1)
    session.save()
    # Past the deadline a learner cannot cancel online; staff can, and staff
    # cancellations refund in full, so try the learner's way.
    with pytest.raises(booking_services.BookingError):
        booking_services.cancel_booking(paid_place, person)
    assert not CardRefund.objects.exists()


def test_an_organisation_finance_contact_pays_the_account_by_card(
    client, card_payments
):
    from accounts.models import Organisation

    org = Organisation.objects.create(name="Oak Tree Primary", pays_on_account=True)
    finance = verified_person()
    member_of(finance, org, is_finance_contact=True)
    Transaction.objects.create(
        organisation=org, kind="charge", amount=Decimal("90.00"), description="Places"
    )
    client.force_login(finance)
    page = client.get(reverse("organisations:account", args=[org.pk])).content.decode()
    assert "Pay £90.00 by card" in page

    response = client.post(reverse("organisations:pay_by_card", args=[org.pk]))
    payment = CardPayment.objects.get()
    assert payment.reference.organisation == org
    assert payment.started_by == finance
    assert response["Location"] == reverse("payments:card_go", args=[payment.pk])
    pay_on_hosted_page(payment.checkout_url)
    html = client.get(reverse("payments:card_payment", args=[payment.pk])).content
    assert b"Payment received" in html
    assert services.balance_of(payment.reference) == 0
    # Someone else of the same organisation without the role sees nothing.
    booker = verified_person()
    member_of(booker, org, is_booker=True)
    client.force_login(booker)
    assert (
        client.get(reverse("payments:card_payment", args=[payment.pk])).status_code
        == 404
    )
    assert (
        client.post(reverse("organisations:pay_by_card", args=[org.pk])).status_code
        == 403
    )


def test_nobody_sees_or_pays_through_another_persons_card_payment(client, paid_place):
    payment = _start(client, paid_place.person)
    other = verified_person()
    client.force_login(other)
    for name in ("card_payment", "card_go", "card_cancelled"):
        assert (
            client.get(reverse(f"payments:{name}", args=[payment.pk])).status_code
            == 404
        )
    # Paying with nothing owed is refused with a message, not a session.
    response = client.post(reverse("payments:pay_card"), follow=True)
    assert "There is nothing to pay." in response.content.decode()
    assert CardPayment.objects.count() == 1


def test_restricted_people_are_told_to_pay_another_way(client, paid_place):
    person = paid_place.person
    person.processing_restricted = True
    person.save()
    client.force_login(person)
    response = client.post(reverse("payments:pay_card"), follow=True)
    assert "while the use of your data is restricted" in response.content.decode()
    assert not CardPayment.objects.exists()


def test_without_stripe_keys_there_is_no_card_button(client, settings):
    settings.STRIPE_SECRET_KEY = ""
    person = verified_person()
    booking_services.book_session(
        person, SessionFactory(course=CourseFactory(price=Decimal("10.00")))
    )
    client.force_login(person)
    assert (
        "by card" not in client.get(reverse("bookings:transactions")).content.decode()
    )
    response = client.post(reverse("payments:pay_card"), follow=True)
    assert "Paying by card is not available." in response.content.decode()
    # And the webhook refuses everything.
    assert (
        client.post(WEBHOOK, b"{}", content_type="application/json").status_code == 400
    )


def test_stripe_down_is_a_message_not_a_500(client, paid_place, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    client.force_login(paid_place.person)
    response = client.post(reverse("payments:pay_card"), follow=True)
    assert response.status_code == 200
    assert "The card payment service did not answer" in response.content.decode()
    assert not CardPayment.objects.exists()
