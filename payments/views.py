"""A person's receipts: each looks the payment up among the signed-in person's
own payments only, so anyone else's id is a 404. Never cached."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from bookings.models import Transaction

from . import selectors
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
