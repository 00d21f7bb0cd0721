from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from courses.selectors import sessions_bookable

from . import selectors, services
from .calendar import booking_ics
from .forms import CancelForm, PriorLearningForm


@login_required
@require_POST
def session_book_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(sessions_bookable(), pk=session_id)
    try:
        booking = services.book_session(request.user, session)
    except services.BookingError as exc:
        messages.error(request, str(exc))
        return redirect(session.course)
    messages.success(request, booking.status_message())
    return redirect("bookings:list")


@login_required
def booking_list_view(request: HttpRequest) -> HttpResponse:
    upcoming = list(selectors.bookings_upcoming(person=request.user))
    for booking in upcoming:
        booking.cancellable = services.can_cancel(booking)
    past = selectors.bookings_past(person=request.user)
    return render(
        request, "bookings/booking_list.html", {"upcoming": upcoming, "past": past}
    )


@login_required
def booking_cancel_view(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = get_object_or_404(
        selectors.bookings_for_person(person=request.user), pk=booking_id
    )
    form = CancelForm(request.POST or None)
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
def training_record_view(request: HttpRequest) -> HttpResponse:
    form = PriorLearningForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.add_prior_learning(request.user, **form.cleaned_data)
        messages.success(request, _("The training has been added to your record."))
        return redirect("bookings:training_record")
    return render(
        request,
        "bookings/training_record.html",
        {
            "attended": selectors.attended_for_person(person=request.user),
            "elsewhere": selectors.prior_learning_for_person(person=request.user),
            "years": selectors.cpd_hours_by_year(person=request.user),
            "form": form,
        },
    )


@login_required
def transaction_list_view(request: HttpRequest) -> HttpResponse:
    entries = list(selectors.transactions_for_person(person=request.user))
    balance = entries[-1].balance if entries else 0
    return render(
        request,
        "bookings/transaction_list.html",
        {"entries": entries, "balance": balance},
    )
