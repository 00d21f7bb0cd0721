"""Pages for booking administrators: a session's register and what they can do
to it. Each needs a permission; every action is written to the staff log."""

import csv
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.middleware import has_back_office_access
from config.idempotency import idempotent, request_key
from config.numbers import parse_ids, parse_int
from config.spreadsheet import safe_cell
from courses.models import Session
from courses.selectors import sessions_in_week, sessions_with_counts, week_of

from . import selectors, services
from .forms import CancelSessionForm, EmailAttendeesForm
from .models import Booking

staff_required = permission_required("bookings.change_booking", raise_exception=True)


def _back_office_only(view):
    """Anyone with a back-office role (the rule that gates /staff/ behind
    two-factor authentication); others are refused before the method is read."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not has_back_office_access(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@login_required
@_back_office_only
@require_safe
def staff_home_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    monday, sunday = week_of(today)
    return render(
        request,
        "bookings/staff/home.html",
        {
            "sessions": sessions_in_week(day=today),
            "monday": monday,
            "sunday": sunday,
            "may_open_registers": request.user.has_perm("bookings.change_booking"),
        },
    )


def _session(session_id: int) -> Session:
    return get_object_or_404(
        sessions_with_counts().select_related("course__provider"), pk=session_id
    )


@login_required
@staff_required
@idempotent
def session_register_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session(session_id)
    bookings = list(selectors.register_for_session(session_id=session.pk))
    if request.method == "POST":
        present = parse_ids(request.POST.getlist("attended"))
        if request.POST.get("everyone") == "attended":
            # "Mark everyone as attended": every place that can be marked.
            present = {
                b.pk
                for b in bookings
                if b.status in ("confirmed", "attended", "no_show")
            }
        try:
            services.save_register(session, present=present, by=request.user)
        except services.BookingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Attendance saved."))
        return redirect("bookings:register", session_id=session.pk)
    other_sessions = (
        Session.objects.filter(
            course=session.course,
            status=Session.Status.SCHEDULED,
            starts_at__gt=timezone.now(),
        )
        .exclude(pk=session.pk)
        .order_by("starts_at")
    )
    return render(
        request,
        "bookings/staff/session_register.html",
        {
            "session": session,
            "bookings": bookings,
            "other_sessions": other_sessions,
            "started": services.has_started(session),
            "below_minimum": session.minimum_attendees
            and session.confirmed_count < session.minimum_attendees
            and not session.minimum_waived_at,
            "email_form": EmailAttendeesForm(),
        },
    )


@login_required
@staff_required
def session_attendees_csv_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session(session_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="session-{session.pk}-attendees.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(
        ["Name", "Work email", "Workplace", "Job title", "Status", "Booked at"]
    )
    for b in selectors.register_for_session(session_id=session.pk):
        profile = getattr(b.person, "profile", None)
        writer.writerow(
            [
                safe_cell(b.person.get_full_name()),
                safe_cell(b.person.email),
                safe_cell(
                    profile.organisation.name
                    if profile and profile.organisation
                    else ""
                ),
                safe_cell(profile.job_title if profile else ""),
                b.get_status_display(),
                timezone.localtime(b.created_at).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    services.log_staff_action(request.user, "exported attendee list", session=session)
    return response


@login_required
@staff_required
def session_sign_in_sheet_view(request: HttpRequest, session_id: int) -> HttpResponse:
    """A printable A4 sign-in sheet (PDF) of the people with a place: name,
    workplace and a box to sign. Logged like the attendee list."""
    from .pdf import render_sign_in_sheet_pdf

    session = _session(session_id)
    places = [
        b
        for b in selectors.register_for_session(session_id=session.pk)
        if b.status in ("confirmed", "attended", "no_show")
    ]
    response = HttpResponse(
        render_sign_in_sheet_pdf(session, places), content_type="application/pdf"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="session-{session.pk}-sign-in-sheet.pdf"'
    )
    response["Cache-Control"] = "private, no-store"
    services.log_staff_action(request.user, "printed sign-in sheet", session=session)
    return response


@login_required
@staff_required
def session_provider_csv_view(request: HttpRequest, session_id: int) -> HttpResponse:
    """The attendee list for a provider: name and work email only, each logged."""
    session = _session(session_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="session-{session.pk}-for-provider.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["Name", "Work email"])
    for b in services.disclose_attendees_to_provider(session, by=request.user):
        writer.writerow(
            [safe_cell(b.person.get_full_name()), safe_cell(b.person.email)]
        )
    return response


@login_required
@staff_required
@idempotent
def session_cancel_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session(session_id)
    form = CancelSessionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            told = services.cancel_session(
                session, request.user, reason=form.cleaned_data["reason"]
            )
        except services.BookingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Session cancelled. %(n)d people have been told.") % {"n": told},
            )
        return redirect("bookings:register", session_id=session.pk)
    return render(
        request,
        "bookings/staff/session_cancel.html",
        {"session": session, "form": form},
    )


@login_required
@staff_required
@require_POST
@idempotent
def session_waive_minimum_view(request: HttpRequest, session_id: int) -> HttpResponse:
    services.waive_minimum(_session(session_id), request.user)
    messages.success(request, _("The session will run below its minimum numbers."))
    return redirect("bookings:register", session_id=session_id)


@login_required
@staff_required
@idempotent
def session_email_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session(session_id)
    form = EmailAttendeesForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        n = services.email_attendees(
            session,
            request.user,
            attended=form.cleaned_data["audience"] == "attended",
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
            request_key=request_key(request),
        )
        messages.success(
            request, _("Your message is being sent to %(n)d people.") % {"n": n}
        )
        return redirect("bookings:register", session_id=session.pk)
    return render(
        request, "bookings/staff/session_email.html", {"session": session, "form": form}
    )


@login_required
@staff_required
@require_POST
@idempotent
def booking_move_view(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = get_object_or_404(
        Booking.objects.select_related("session"), pk=booking_id
    )
    target_id = parse_int(request.POST.get("to_session"), minimum=1)
    target = (
        Session.objects.filter(pk=target_id).first() if target_id is not None else None
    )
    if target is None:
        messages.error(request, _("Choose the session to move the booking to."))
    else:
        try:
            services.move_booking(
                booking, target, request.user, request_key=request_key(request)
            )
        except services.BookingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Booking moved and the person told."))
    return redirect("bookings:register", session_id=booking.session_id)


@login_required
@permission_required("bookings.view_evaluation", raise_exception=True)
def session_evaluations_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session(session_id)
    evaluations = list(selectors.evaluations_for_session(session_id=session.pk))
    average = (
        sum(e.rating for e in evaluations) / len(evaluations) if evaluations else None
    )
    return render(
        request,
        "bookings/staff/session_evaluations.html",
        {"session": session, "evaluations": evaluations, "average": average},
    )
