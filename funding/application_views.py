"""Learners' applications of every type staff define (`/applications/`), and
the apprenticeship addresses that came before them, which still work."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.idempotency import idempotent

from . import selectors, services
from .forms import ApplicationForm
from .models import Application, ApplicationType


def _my_application(request: HttpRequest, pk: int) -> Application:
    return get_object_or_404(
        selectors.applications_for_person(person=request.user), pk=pk
    )


@login_required
def application_list_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "funding/application_list.html",
        {
            "types": selectors.application_types_open(),
            "applications": selectors.applications_for_person(person=request.user),
        },
    )


def _application_form_page(
    request: HttpRequest, kind: ApplicationType | None, application: Application | None
) -> HttpResponse:
    profile = getattr(request.user, "profile", None)
    initial = {}
    if application is None and profile and profile.organisation:
        initial["employer_name"] = profile.organisation.name
    form = ApplicationForm(
        request.POST if request.method == "POST" else None,
        instance=application,
        initial=initial,
        person=request.user,
        application_type=kind,
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_application(
                request.user,
                application=application,
                application_type=kind,
                **form.cleaned_data,
            )
        except services.FundingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Your application is saved. Check it, then submit it.")
            )
            return redirect(saved)
    return render(
        request,
        "funding/application_form.html",
        {"form": form, "application": application, "kind": kind},
    )


def _new_application_page(request: HttpRequest, type_slug: str) -> HttpResponse:
    kind = get_object_or_404(selectors.application_types(), slug=type_slug)
    if not kind.is_open:
        return render(request, "funding/application_closed.html", {"kind": kind})
    return _application_form_page(request, kind, None)


@login_required
@idempotent
def application_new_view(request: HttpRequest, type_slug: str) -> HttpResponse:
    return _new_application_page(request, type_slug)


@login_required
@idempotent
def application_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    application = _my_application(request, pk)
    if not application.is_editable:
        messages.error(request, _("This application can no longer be changed."))
        return redirect(application)
    return _application_form_page(request, application.type, application)


@login_required
def application_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(
        selectors.application_detail(
            queryset=selectors.applications_for_person(person=request.user)
        ),
        pk=pk,
    )
    return render(
        request,
        "funding/application_detail.html",
        {"application": application, "events": application.events.all()},
    )


@login_required
@require_POST
@idempotent
def application_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    application = _my_application(request, pk)
    try:
        services.submit_application(application, by=request.user)
    except services.FundingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Your application has been submitted."))
    return redirect(application)


# --- the apprenticeship addresses before application types ----------------------


@login_required
@idempotent
def apprenticeship_new_view(request: HttpRequest) -> HttpResponse:
    # The form itself, not a redirect: a form the previous release rendered
    # here is still saved when sent during the upgrade.
    return _new_application_page(request, "apprenticeship")


@login_required
def apprenticeship_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return redirect(_my_application(request, pk))
