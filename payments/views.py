"""A person's receipts and card payments: each looks the payment up among the
signed-in person's own (or, for a finance contact, their organisation's), so
anyone else's id is a 404. Never cached. The Stripe webhook is the one view
without a session: its signature is its proof."""

import contextlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    RawPostDataException,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bookings.models import Transaction
from config.idempotency import idempotent

from . import gateway, selectors, services
from .models import CardPayment
from .pdf import render_receipt_pdf
from .receipts import receipt_facts, receipt_filename, receipt_number


def _payer_name(payment: Transaction) -> str:
    if payment.organisation_id:
        return payment.organisation.name
    person = payment.person
    return person.get_full_name() or person.email


def receipt_page(request: HttpRequest, payment: Transaction, *, back: str, pdf: str):
    response = render(
        request,
        "payments/receipt.html",
        {
            "payment": payment,
            "number": receipt_number(payment),
            "facts": receipt_facts(payment, payer=_payer_name(payment)),
            "issuer": [
                part.strip()
                for part in (settings.INVOICE_ISSUER or settings.SITE_NAME).split(",")
            ],
            "back": back,
            "pdf": pdf,
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response


def receipt_pdf(payment: Transaction) -> HttpResponse:
    response = HttpResponse(
        render_receipt_pdf(payment, payer=_payer_name(payment)),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{receipt_filename(payment)}"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _own_payment(request: HttpRequest, transaction_id: int) -> Transaction:
    # The owner check comes before the method check, so nobody else learns
    # whether the id exists.
    return get_object_or_404(
        selectors.receipts_for_person(person=request.user), pk=transaction_id
    )


@login_required
def receipt_view(request: HttpRequest, transaction_id: int) -> HttpResponse:
    payment = _own_payment(request, transaction_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return receipt_page(
        request,
        payment,
        back=reverse("bookings:transactions"),
        pdf=reverse("payments:receipt_pdf", args=[payment.pk]),
    )


@login_required
def receipt_pdf_view(request: HttpRequest, transaction_id: int) -> HttpResponse:
    payment = _own_payment(request, transaction_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return receipt_pdf(payment)


# --- card payments -----------------------------------------------------------


def card_urls(request: HttpRequest) -> dict[str, str]:
    """Where Stripe sends the payer back ({pk}: the card payment's id)."""
    page = reverse("payments:card_payment", args=[0]).replace("/0/", "/{pk}/")
    return {
        "success_url": f"{settings.SITE_URL}{page}",
        "cancel_url": f"{settings.SITE_URL}{page}cancelled/",
    }


def start_card_payment(request: HttpRequest, reference) -> HttpResponse:
    """Open (or reopen) the Checkout session and send the payer to it through
    our own short address, so a double submit lands on the same session."""
    try:
        payment = services.start_card_payment(
            reference=reference, by=request.user, **card_urls(request)
        )
    except (services.PaymentsError, gateway.CardGatewayError) as exc:
        messages.error(request, str(exc))
        return None
    return redirect("payments:card_go", payment.pk)


@login_required
@require_POST
@idempotent
def pay_by_card_view(request: HttpRequest) -> HttpResponse:
    reference = services.reference_for(person=request.user)
    return start_card_payment(request, reference) or redirect(
        reverse("bookings:transactions") + "#pay"
    )


def _own_card_payment(request: HttpRequest, pk: int) -> CardPayment:
    """The owner check comes before the method check, so nobody else learns
    whether the id exists; each view then allows GET and HEAD only."""
    payment = selectors.card_payment_for(user=request.user, pk=pk)
    if payment is None:
        raise Http404
    return payment


@login_required
def card_go_view(request: HttpRequest, pk: int) -> HttpResponse:
    """To Stripe's page while the session is open; otherwise to what happened."""
    payment = _own_card_payment(request, pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    if payment.status == CardPayment.Status.OPEN and payment.checkout_url:
        return HttpResponseRedirect(payment.checkout_url)
    return redirect("payments:card_payment", payment.pk)


def _back_to(payment: CardPayment) -> str:
    if payment.reference.organisation_id:
        return reverse(
            "organisations:account", args=[payment.reference.organisation_id]
        )
    return reverse("bookings:transactions")


def _card_page(request, payment, *, cancelled: bool) -> HttpResponse:
    response = render(
        request,
        "payments/card_payment.html",
        {
            "payment": payment,
            "cancelled": cancelled,
            "owed": services.balance_of(payment.reference),
            "back": _back_to(payment),
            "retry": reverse(
                "organisations:pay_by_card", args=[payment.reference.organisation_id]
            )
            if payment.reference.organisation_id
            else reverse("payments:pay_card"),
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def card_payment_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Where Stripe sends the payer after paying. Stripe's webhook may not have
    arrived yet, so an open session is looked up (and recorded if paid)."""
    payment = _own_card_payment(request, pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    # If Stripe does not answer, the page says it is still waiting and the
    # webhook records the payment when it comes.
    with contextlib.suppress(gateway.CardGatewayError):
        payment = services.refresh_card_payment(payment)
    return _card_page(request, payment, cancelled=False)


@login_required
def card_cancelled_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Where Stripe sends a payer who went back without paying."""
    payment = _own_card_payment(request, pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _card_page(request, payment, cancelled=True)


# No CSRF token: Stripe posts here with no cookie. The signature (HMAC with
# STRIPE_WEBHOOK_SECRET over the timestamp and body, at most 5 minutes old) is
# what proves the event is Stripe's; anything else is a 400 and changes nothing.
@csrf_exempt
@require_POST
def stripe_webhook_view(request: HttpRequest) -> HttpResponse:
    try:
        # A form-encoded body was already read as a form: Stripe sends JSON.
        payload = request.body
    except RawPostDataException:
        return HttpResponseBadRequest("expected JSON", content_type="text/plain")
    try:
        event = gateway.verify_event(
            payload, request.headers.get("Stripe-Signature", "")
        )
    except gateway.BadSignature:
        return HttpResponseBadRequest("bad signature", content_type="text/plain")
    try:
        outcome = services.handle_stripe_event(event)
    except (services.PaymentsError, gateway.CardGatewayError):
        # Stripe sends the event again later.
        return HttpResponse("retry", status=503, content_type="text/plain")
    return HttpResponse(outcome, content_type="text/plain")
