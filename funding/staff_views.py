"""Funding officers' pages under /staff/funding/ (so two-factor authentication
applies): the work queue, a request's review, invoices and payments, a round's
panel and applications of every type. Each needs a funding permission."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from config.idempotency import idempotent
from config.paging import capped_page

from . import selectors, services
from .forms import (
    ApplicationDecisionForm,
    DecisionForm,
    InvoiceForm,
    PaymentForm,
    QueueFilterForm,
)
from .models import Application, FundingRequest, FundingRound

# The queues are 50 a page, counted up to 1,000 (20 pages): counting every
# request, and a deep page's OFFSET, cost time that grows with them.
QUEUE_PER_PAGE = 50
QUEUE_COUNT_CAP = 1000

officer_required = permission_required(
    "funding.change_fundingrequest", raise_exception=True
)
application_officer_required = permission_required(
    "funding.change_application", raise_exception=True
)


def _request(pk: int) -> FundingRequest:
    return get_object_or_404(
        selectors.funding_request_detail(
            queryset=selectors.funding_requests_for_officers()
        ),
        pk=pk,
    )


@login_required
@officer_required
def queue_view(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(
        request.GET or None,
        rounds=FundingRound.objects.select_related("stream"),
    )
    filters = form.cleaned_data if form.is_valid() else {}
    queryset = selectors.funding_requests_for_officers(
        status=filters.get("status", ""),
        provider=filters.get("provider", ""),
        workplace=filters.get("workplace", ""),
        round_id=filters.get("round", ""),
        submitted_from=filters.get("submitted_from"),
        submitted_to=filters.get("submitted_to"),
    )
    page, more_than = capped_page(
        request, queryset, per_page=QUEUE_PER_PAGE, cap=QUEUE_COUNT_CAP
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "funding/staff/queue.html",
        {
            "form": form,
            "page": page,
            "more_than": more_than,
            "query": query.urlencode(),
            "rounds": selectors.rounds_open(),
        },
    )


@login_required
@officer_required
@idempotent
def review_view(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = _request(pk)
    form = DecisionForm(
        request.POST if request.method == "POST" else None,
        initial={"amount": funding_request.cost},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == "approve":
                services.approve_funding_request(
                    funding_request,
                    amount=data["amount"],
                    conditions=data["note"],
                    by=request.user,
                )
            elif data["decision"] == "decline":
                services.decline_funding_request(
                    funding_request, reason=data["note"], by=request.user
                )
            else:
                services.ask_for_more_information(
                    funding_request, note=data["note"], by=request.user
                )
        except services.FundingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Decision saved and the learner emailed."))
            return redirect("funding:officer_review", pk=funding_request.pk)
    return render(
        request,
        "funding/staff/review.html",
        {
            "funding_request": funding_request,
            "form": form,
            "events": funding_request.events.all(),
            "can_decide": funding_request.status in FundingRequest.PENDING,
            "now": timezone.now(),
        },
    )


@login_required
@officer_required
@idempotent
def invoice_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = _request(pk)
    form = InvoiceForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial={"supplier": funding_request.provider_display},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.record_invoice(
                funding_request, upload=data.pop("file"), **data, by=request.user
            )
        except services.FundingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Invoice recorded."))
            return redirect("funding:officer_review", pk=funding_request.pk)
    return render(
        request,
        "funding/staff/invoice_form.html",
        {"funding_request": funding_request, "form": form},
    )


@login_required
@officer_required
@idempotent
def payment_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = _request(pk)
    form = PaymentForm(
        request.POST if request.method == "POST" else None,
        funding_request=funding_request,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_payment(
                funding_request, **form.cleaned_data, by=request.user
            )
        except services.FundingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Payment recorded."))
            return redirect("funding:officer_review", pk=funding_request.pk)
    return render(
        request,
        "funding/staff/payment_form.html",
        {"funding_request": funding_request, "form": form},
    )


@login_required
@officer_required
@idempotent
def panel_view(request: HttpRequest, round_id: int) -> HttpResponse:
    """A round's requests on one page, decided in one pass."""
    funding_round = get_object_or_404(
        FundingRound.objects.select_related("stream"), pk=round_id
    )
    rows = list(selectors.panel_for_round(funding_round=funding_round))
    error = None
    if request.method == "POST":
        decisions, error = _panel_decisions(request.POST, rows)
        if error is None:
            try:
                n = services.decide_panel(
                    funding_round, decisions=decisions, by=request.user
                )
            except services.FundingError as exc:
                error = str(exc)
            else:
                messages.success(
                    request,
                    _("%(n)d decisions saved and the learners emailed.") % {"n": n},
                )
                return redirect("funding:officer_panel", round_id=funding_round.pk)
        for row in rows:
            row.posted = {
                "decision": request.POST.get(f"decision-{row.pk}", ""),
                "amount": request.POST.get(f"amount-{row.pk}", ""),
                "note": request.POST.get(f"note-{row.pk}", ""),
            }
    return render(
        request,
        "funding/staff/panel.html",
        {"funding_round": funding_round, "rows": rows, "error": error},
        status=400 if error else 200,
    )


def _panel_decisions(data, rows) -> tuple[list[dict], str | None]:
    # A DecimalField refuses "NaN", "Infinity" and "1e999", which Decimal()
    # accepts and quantize() then fails on.
    amount_field = forms.DecimalField(max_digits=10, decimal_places=2)
    decisions = []
    for row in rows:
        decision = data.get(f"decision-{row.pk}", "")
        if decision not in ("", "approve", "decline"):
            return [], _("Choose approve, decline or no decision yet.")
        amount = None
        raw = data.get(f"amount-{row.pk}", "").strip().replace(",", "").lstrip("£")
        if decision == "approve":
            try:
                amount = amount_field.clean(raw[:50])
            except ValidationError:
                return [], _(
                    "%(course)s: enter the amount approved in pounds, "
                    "with pence as 2 digits at most, like 450.50."
                ) % {"course": row.course_name}
        decisions.append(
            {
                "request_id": row.pk,
                "decision": decision,
                "amount": amount,
                "note": data.get(f"note-{row.pk}", "")[:5000],
            }
        )
    return decisions, None


@login_required
@application_officer_required
def application_queue_view(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in Application.Status.values:
        status = ""
    types = list(selectors.application_types())
    type_slug = request.GET.get("type", "")
    if type_slug not in {t.slug for t in types}:
        type_slug = ""
    page, more_than = capped_page(
        request,
        selectors.applications_for_officers(status=status, type_slug=type_slug),
        per_page=QUEUE_PER_PAGE,
        cap=QUEUE_COUNT_CAP,
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "funding/staff/application_queue.html",
        {
            "page": page,
            "more_than": more_than,
            "query": query.urlencode(),
            "status": status,
            "statuses": [c for c in Application.Status.choices if c[0] != "draft"],
            "types": types,
            "type_slug": type_slug,
        },
    )


@login_required
@application_officer_required
@idempotent
def application_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(
        selectors.application_detail(queryset=selectors.applications_for_officers()),
        pk=pk,
    )
    form = ApplicationDecisionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        decision, note = form.cleaned_data["decision"], form.cleaned_data["note"]
        try:
            if decision == "review":
                services.start_application_review(application, by=request.user)
            else:
                services.decide_application(
                    application, offer=decision == "offer", note=note, by=request.user
                )
        except services.FundingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Saved and the applicant emailed."))
            return redirect("funding:officer_application", pk=application.pk)
    return render(
        request,
        "funding/staff/application_review.html",
        {
            "application": application,
            "form": form,
            "events": application.events.all(),
        },
    )
