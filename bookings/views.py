import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import account_to_charge
from config.idempotency import idempotent
from config.paging import RowsPage, link_pages, page_of
from config.spreadsheet import safe_cell
from courses.selectors import sessions_bookable
from payments import selectors as payment_selectors
from payments import services as payment_services

from . import selectors, services
from .calendar import booking_ics
from .forms import CancelForm, EvaluationForm, PriorLearningForm
from .pdf import verify_url

# Sessions waiting for an evaluation listed at the top of the training record.
TO_EVALUATE_SHOWN = 10


@login_required
@require_http_methods(["GET", "POST"])
@idempotent
def session_book_view(request: HttpRequest, session_id: int) -> HttpResponse:
    """Book a place. A paid place is checked first: its GET (or a POST
    without `confirm`) shows what will be booked and who pays, and only the
    confirming POST books it. A free place books at once (POST only)."""
    session = get_object_or_404(sessions_bookable(), pk=session_id)
    course = session.course
    paid = bool(course.price)
    if request.method == "GET" and not paid:
        return HttpResponseNotAllowed(["POST"])
    charge_account = account_to_charge(request.user) if paid else None
    if paid and (request.method == "GET" or request.POST.get("confirm") != "yes"):
        return render(
            request,
            "bookings/book_check.html",
            {
                "session": session,
                "course": course,
                "charge_account": charge_account,
                "charge_to": request.POST.get("charge_to", ""),
                "deadline": session.starts_at
                - timezone.timedelta(hours=course.cancellation_deadline_hours),
            },
        )
    organisation = None
    # Asked to charge the workplace: book_session refuses (with the reason)
    # when it does not pay for this person, rather than charging them.
    if request.POST.get("charge_to") == "organisation":
        organisation = getattr(
            getattr(request.user, "profile", None), "organisation", None
        )
    try:
        booking = services.book_session(
            request.user, session, organisation=organisation
        )
    except services.BookingError as exc:
        # Linked to the dates on the course page, where another can be chosen.
        messages.error(request, str(exc), extra_tags="sessions")
        return redirect(course)
    messages.success(request, booking.status_message())
    return redirect(booking)


@login_required
def booking_list_view(request: HttpRequest) -> HttpResponse:
    upcoming = list(selectors.bookings_upcoming(person=request.user))
    unpaid = payment_selectors.unpaid_places(person=request.user) if upcoming else {}
    for booking in upcoming:
        booking.cancellable = services.can_cancel(booking)
        charge = unpaid.get(booking.pk)
        if charge is not None:
            booking.unpaid = charge.amount
            days = booking.session.course.release_unpaid_after_days
            if days is not None:
                booking.release_at = charge.created_at + timezone.timedelta(days=days)
    return render(
        request,
        "bookings/booking_list.html",
        {"upcoming": upcoming, "past": _past_page(request)},
    )


def _past_page(request: HttpRequest) -> RowsPage:
    """Past bookings grow with a person's history: twenty at a time,
    newest first (?past=2 for older ones)."""
    page = page_of(request, selectors.bookings_past(person=request.user), "past")
    link_pages(page)
    return page


@login_required
def booking_detail_view(request: HttpRequest, booking_id: int) -> HttpResponse:
    """One booking of the person's own: what, when, where, its reference and
    what they can do with it (calendar, cancel, certificate, pay)."""
    booking = get_object_or_404(
        selectors.bookings_for_person(person=request.user), pk=booking_id
    )
    booking.cancellable = services.can_cancel(booking)
    unpaid = payment_selectors.unpaid_places(person=request.user).get(booking.pk)
    return render(
        request,
        "bookings/booking_detail.html",
        {
            "booking": booking,
            "session": booking.session,
            "course": booking.session.course,
            "unpaid": unpaid.amount if unpaid is not None else None,
        },
    )


@login_required
@idempotent
def booking_cancel_view(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = get_object_or_404(
        selectors.bookings_for_person(person=request.user), pk=booking_id
    )
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_booking(
                booking, request.user, reason=form.cleaned_data["reason"]
            )
        except services.BookingError as exc:
            messages.error(request, str(exc))
        else:
            if booking.status == booking.Status.WAITLISTED:
                messages.success(request, _("You have left the waiting list."))
            else:
                messages.success(request, _("Your booking has been cancelled."))
        return redirect("bookings:list")
    return render(
        request,
        "bookings/booking_cancel.html",
        {"booking": booking, "form": form, "allowed": services.can_cancel(booking)},
    )


@login_required
def booking_calendar_view(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = get_object_or_404(
        selectors.bookings_for_person(person=request.user), pk=booking_id
    )
    response = HttpResponse(
        booking_ics(booking), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="session-{booking.session_id}.ics"'
    )
    return response


@login_required
@idempotent
def training_record_view(request: HttpRequest) -> HttpResponse:
    form = PriorLearningForm(request.POST or None)
    if request.method == "POST":
        form = PriorLearningForm(request.POST, request.FILES)
    if request.method == "POST" and form.is_valid():
        services.add_prior_learning(request.user, **form.cleaned_data)
        messages.success(request, _("The training has been added to your record."))
        return redirect("bookings:training_record")
    # Both lists grow with a person's history: a page of each at a time,
    # newest first (?attended=2, ?elsewhere=2).
    attended = page_of(
        request, selectors.attended_for_person(person=request.user), "attended"
    )
    elsewhere = page_of(
        request,
        selectors.prior_learning_for_person(person=request.user),
        "elsewhere",
    )
    link_pages(attended, elsewhere)
    return render(
        request,
        "bookings/training_record.html",
        {
            "attended": attended,
            "elsewhere": elsewhere,
            "years": selectors.cpd_hours_by_year(person=request.user),
            # The newest to evaluate; more appear as these are done.
            "to_evaluate": list(
                selectors.bookings_to_evaluate(person=request.user)[
                    : TO_EVALUATE_SHOWN + 1
                ]
            ),
            "to_evaluate_shown": TO_EVALUATE_SHOWN,
            "form": form,
        },
    )


@login_required
def transaction_list_view(request: HttpRequest) -> HttpResponse:
    """The person's statement, newest first, twenty entries at a time
    (?entries=2 for older ones), each with the running total up to it (summed
    in the query over the whole statement, so every page's totals agree)."""
    page = page_of(
        request, selectors.transactions_for_person(person=request.user), "entries"
    )
    link_pages(page)
    balance, own_balance = payment_selectors.balances(person=request.user)
    bank = payment_selectors.bank_details()
    # The reference is made the first time a balance is shown with the bank's
    # details, so only people who may pay by transfer get one.
    reference = payment_services.reference_for(person=request.user) if bank else None
    return render(
        request,
        "bookings/transaction_list.html",
        {
            "entries": page.object_list,
            "page": page,
            "balance": balance,
            "own_balance": own_balance,
            "card": payment_selectors.card_payments_enabled() and own_balance > 0,
            "pay_by_card": reverse("payments:pay_card"),
            "bank": bank,
            "payment_reference": reference,
        },
    )


@login_required
@require_POST
@idempotent
def booking_accept_view(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = get_object_or_404(
        selectors.bookings_for_person(person=request.user), pk=booking_id
    )
    try:
        services.accept_offer(booking, request.user)
    except services.BookingError as exc:
        messages.error(request, str(exc))
    else:
        booking.refresh_from_db()
        if booking.status == booking.Status.AWAITING_APPROVAL:
            messages.success(request, booking.status_message())
        else:
            messages.success(
                request, _("You have accepted the place. Your booking is confirmed.")
            )
    return redirect("bookings:list")


@login_required
@idempotent
def booking_evaluate_view(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = get_object_or_404(
        selectors.attended_for_person(person=request.user), pk=booking_id
    )
    form = EvaluationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_evaluation(booking, **form.cleaned_data)
        except services.BookingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Thank you for your feedback."))
        return redirect("bookings:training_record")
    return render(
        request, "bookings/evaluation_form.html", {"booking": booking, "form": form}
    )


@login_required
def training_record_csv_view(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="training-record.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["Date", "Title", "Provider", "CPD hours", "Where", "Certificate code"]
    )
    for b in selectors.attended_for_person(person=request.user):
        writer.writerow(
            [
                timezone.localtime(b.session.starts_at).date().isoformat(),
                safe_cell(b.session.course.title),
                safe_cell(b.session.course.provider.name),
                b.session.course.cpd_hours,
                "Booked with us",
                b.certificate_code or "",
            ]
        )
    for p in selectors.prior_learning_for_person(person=request.user):
        writer.writerow(
            [
                p.completed_on.isoformat(),
                safe_cell(p.title),
                safe_cell(p.provider_name),
                p.cpd_hours,
                "Elsewhere",
                "",
            ]
        )
    return response


@login_required
def certificate_view(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = get_object_or_404(
        selectors.attended_for_person(person=request.user), pk=booking_id
    )
    if request.GET.get("format") == "pdf":
        from .pdf import render_certificate_pdf

        response = HttpResponse(
            render_certificate_pdf(booking), content_type="application/pdf"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="certificate-{booking.reference}.pdf"'
        )
        response["Cache-Control"] = "private, no-store"
        return response
    return render(
        request,
        "bookings/certificate.html",
        {"booking": booking, "verify_url": verify_url(booking)},
    )


def certificate_verify_view(request: HttpRequest, code: str) -> HttpResponse:
    """Public: anyone with the code sees only the course, date, hours and name."""
    booking = selectors.certificate_get(code=code)
    return render(
        request,
        "bookings/certificate_verify.html",
        {"booking": booking, "code": code[:20]},
        status=200 if booking else 404,
    )


@login_required
def evidence_download_view(request: HttpRequest, pk: int) -> FileResponse:
    item = get_object_or_404(
        selectors.prior_learning_for_person(person=request.user).exclude(evidence=""),
        pk=pk,
    )
    response = FileResponse(
        item.evidence.open("rb"),
        as_attachment=True,
        filename=item.evidence.name.rsplit("/", 1)[-1],
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
