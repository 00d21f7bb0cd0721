from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from config.idempotency import idempotent
from config.paging import link_pages, page_of

from . import disclosures, selectors, services
from .forms import AccessForm, CorrectionForm, RequestForm, TransmissionRequestForm
from .models import DataSubjectRequest, ExportFile


@login_required
@idempotent
def my_data_view(request: HttpRequest) -> HttpResponse:
    form = RequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        if kind == DataSubjectRequest.Kind.ERASURE and not form.cleaned_data.get(
            "confirmed"
        ):
            # Check your answers before anything is asked for.
            return render(
                request,
                "privacy/erasure_check.html",
                {"details": form.cleaned_data["details"]},
            )
        dsr = services.create_request(
            request.user, kind, details=form.cleaned_data["details"]
        )
        if kind == DataSubjectRequest.Kind.OBJECT_MARKETING:
            messages.success(
                request, _("Done: we will send you no more marketing of any kind.")
            )
        elif kind == DataSubjectRequest.Kind.OBJECT_PROFILING:
            messages.success(
                request, _("Done: we no longer choose offers from your bookings.")
            )
        elif kind == DataSubjectRequest.Kind.OBJECT_ANALYTICS:
            messages.success(
                request, _("Done: we no longer use analytics about your visits.")
            )
        else:
            messages.success(
                request,
                _(
                    "We have your request (reference %(reference)s). Our data "
                    "protection lead will reply within one month."
                )
                % {"reference": dsr.reference},
            )
        return redirect("privacy:my_data")
    # Staff log a disclosure each time they send a provider a session's
    # attendees, so the list grows with a person's history.
    shared = page_of(
        request, selectors.disclosures_for_person(person=request.user), "shared"
    )
    link_pages(shared)
    return render(
        request,
        "privacy/my_data.html",
        {
            "form": form,
            "requests": services.requests_of(request.user),
            "exports": ExportFile.objects.filter(
                person=request.user, expires_at__gt=timezone.now()
            ),
            "sources": services.data_sources(request.user),
            "disclosures": shared.object_list,
            "shared": shared,
            "transmissions": selectors.transmissions_for_person(person=request.user),
            "now": timezone.now(),
        },
    )


@login_required
@idempotent
def my_data_transfer_view(request: HttpRequest) -> HttpResponse:
    form = TransmissionRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            transmission = disclosures.ask_for_transmission(
                request.user, **form.cleaned_data
            )
        except services.PrivacyError as exc:
            form.add_error("recipient_email", str(exc))
        else:
            messages.success(
                request,
                _(
                    "We have your request to send your data to %(name)s. Our data "
                    "protection lead will send it within one month."
                )
                % {"name": transmission.recipient_name},
            )
            return redirect("privacy:my_data")
    return render(request, "privacy/transfer_form.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def transfer_collect_view(request: HttpRequest, token: str) -> HttpResponse:
    """The recipient's one-time link (no sign-in). GET shows what it is and a
    button, so a mail scanner that follows links cannot use it up; the POST
    gives the file once."""
    problem = ""
    if request.method == "POST":
        try:
            _transmission, content = disclosures.collect_transmission(token)
        except services.PrivacyError as exc:
            problem = str(exc)
        else:
            response = HttpResponse(content, content_type="application/zip")
            response["Content-Disposition"] = 'attachment; filename="personal-data.zip"'
            return _private(response)
    else:
        link = selectors.transmission_get(token=token)
        problem = disclosures.transmission_link_problem(link)
    response = render(
        request,
        "privacy/transfer_collect.html",
        {"problem": problem},
        status=410 if problem else 200,
    )
    return _private(response)


def _private(response: HttpResponse) -> HttpResponse:
    # The token is in the address: keep it out of caches, indexes and other
    # sites' Referer headers.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_POST
def my_data_download_view(request: HttpRequest) -> HttpResponse:
    content = services.export_now_or_later(request.user)
    if content is None:
        messages.success(
            request,
            _(
                "Your data is being prepared. We will email you a link when it is ready."
            ),
        )
        return redirect("privacy:my_data")
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="my-data.zip"'
    return response


@login_required
def my_data_export_view(request: HttpRequest, token: str) -> FileResponse:
    export = ExportFile.objects.filter(
        token=token, person=request.user, expires_at__gt=timezone.now()
    ).first()
    if export is None:
        raise Http404(_("This link has expired or is not yours."))
    return FileResponse(
        export.file.open("rb"), as_attachment=True, filename="my-data.zip"
    )


@login_required
@permission_required("privacy.view_datasubjectrequest", raise_exception=True)
def processing_record_view(request: HttpRequest) -> HttpResponse:
    from consent.selectors import processing_purposes

    return render(
        request, "privacy/processing_record.html", {"purposes": processing_purposes()}
    )


@login_required
@idempotent
def correction_new_view(request: HttpRequest) -> HttpResponse:
    form = CorrectionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        dsr = services.ask_for_correction(request.user, **form.cleaned_data)
        messages.success(
            request,
            _("We have your request to correct your data. We will reply by %(due)s.")
            % {"due": timezone.localtime(dsr.due_at).strftime("%-d %B %Y")},
        )
        return redirect("privacy:my_data")
    return render(request, "privacy/correction_new.html", {"form": form})


@login_required
@idempotent
def access_new_view(request: HttpRequest) -> HttpResponse:
    form = AccessForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        dsr = services.ask_for_access(request.user, **form.cleaned_data)
        messages.success(
            request,
            _("We have your request and will send you what we find by %(due)s.")
            % {"due": timezone.localtime(dsr.due_at).strftime("%-d %B %Y")},
        )
        return redirect("privacy:my_data")
    return render(request, "privacy/access_new.html", {"form": form})
