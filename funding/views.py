"""Learners' funding pages and the manager's support page (no login)."""

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from config.idempotency import idempotent

from . import selectors, services
from .forms import (
    FundingRequestForm,
    ManagerForm,
    ManagerSupportForm,
    ProgressForm,
    SupportingDocumentForm,
)
from .models import FundingDocument, FundingRequest, Invoice

OFFICER_PERMISSION = "funding.view_fundingrequest"


def _my_request(request: HttpRequest, pk: int) -> FundingRequest:
    return get_object_or_404(
        selectors.funding_requests_for_person(person=request.user), pk=pk
    )


@login_required
def funding_list_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "funding/funding_list.html",
        {
            "requests": selectors.funding_requests_for_person(person=request.user),
            "applications": selectors.applications_for_person(person=request.user),
            "allowances": selectors.allowances_for_person(person=request.user),
        },
    )


def _request_form_page(request, funding_request: FundingRequest | None):
    form = FundingRequestForm(
        request.POST if request.method == "POST" else None,
        instance=funding_request,
        person=request.user,
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_funding_request(
                request.user, funding_request=funding_request, **form.service_fields()
            )
        except services.FundingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Your request is saved. Check it, then submit it when it is ready."),
            )
            return redirect(saved)
    return render(
        request,
        "funding/request_form.html",
        {
            "form": form,
            "funding_request": funding_request,
            "allowances": selectors.allowances_for_person(person=request.user),
        },
    )


@login_required
@idempotent
def funding_request_new_view(request: HttpRequest) -> HttpResponse:
    return _request_form_page(request, None)


@login_required
@idempotent
def funding_request_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = _my_request(request, pk)
    if not funding_request.is_editable:
        messages.error(request, _("This request can no longer be changed."))
        return redirect(funding_request)
    return _request_form_page(request, funding_request)


@login_required
def funding_request_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = get_object_or_404(
        selectors.funding_request_detail(
            queryset=selectors.funding_requests_for_person(person=request.user)
        ),
        pk=pk,
    )
    return render(
        request,
        "funding/request_detail.html",
        {
            "funding_request": funding_request,
            "missing": services.missing_for_submission(funding_request)
            if funding_request.is_editable
            else [],
            "events": funding_request.events.all(),
        },
    )


@login_required
@require_POST
@idempotent
def funding_request_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = _my_request(request, pk)
    try:
        services.submit_funding_request(funding_request, by=request.user)
    except services.FundingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Your request has been submitted. We have emailed your manager."),
        )
    return redirect(funding_request)


@login_required
@idempotent
def funding_document_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = _my_request(request, pk)
    form = SupportingDocumentForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.add_supporting_document(
                funding_request, upload=form.cleaned_data["file"], by=request.user
            )
        except services.FundingError as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(request, _("The document has been added."))
            return redirect(funding_request)
    return render(
        request,
        "funding/document_form.html",
        {"funding_request": funding_request, "form": form},
    )


@login_required
@idempotent
def funding_manager_view(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = _my_request(request, pk)
    form = ManagerForm(
        request.POST if request.method == "POST" else None,
        person=request.user,
        initial={
            "manager_name": funding_request.manager_name,
            "manager_email": funding_request.manager_email,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.change_manager(
                funding_request, **form.cleaned_data, by=request.user
            )
        except services.FundingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Your manager has been changed."))
            return redirect(funding_request)
    return render(
        request,
        "funding/manager_form.html",
        {"funding_request": funding_request, "form": form},
    )


@login_required
@require_POST
@idempotent
def funding_manager_resend_view(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = _my_request(request, pk)
    try:
        services.resend_to_manager(funding_request, by=request.user)
    except services.FundingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("We have sent the request to %(manager)s again.")
            % {"manager": funding_request.manager_name},
        )
    return redirect(funding_request)


@login_required
@idempotent
def funding_progress_view(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = _my_request(request, pk)
    form = ProgressForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_progress(
                funding_request, **form.cleaned_data, by=request.user
            )
        except services.FundingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Your progress has been recorded."))
            return redirect(funding_request)
    return render(
        request,
        "funding/progress_form.html",
        {"funding_request": funding_request, "form": form},
    )


# --- files ------------------------------------------------------------------------


def can_see_files(user, funding_request: FundingRequest) -> bool:
    """The learner who owns the request, or a funding officer (with two-factor
    authentication, as everywhere in the back office). Nobody else."""
    if not user.is_authenticated:
        return False
    if funding_request.person_id is not None and funding_request.person_id == user.pk:
        return True
    if funding_request.status == FundingRequest.Status.DRAFT:
        return False  # not submitted: officers see nothing of it
    return user.has_perm(OFFICER_PERMISSION) and (
        Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    )


def _file_response(field, *, filename: str, content_type: str) -> FileResponse:
    if not field:
        raise Http404
    response = FileResponse(
        field.open("rb"),
        as_attachment=True,
        filename=filename,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def funding_document_download_view(request: HttpRequest, pk: int) -> FileResponse:
    document = get_object_or_404(
        FundingDocument.objects.select_related("request"), pk=pk
    )
    if not can_see_files(request.user, document.request):
        raise Http404
    return _file_response(
        document.file,
        filename=document.original_name,
        content_type=document.content_type,
    )


@login_required
def funding_invoice_download_view(request: HttpRequest, pk: int) -> FileResponse:
    invoice = get_object_or_404(Invoice.objects.select_related("request"), pk=pk)
    if not can_see_files(request.user, invoice.request):
        raise Http404
    return _file_response(
        invoice.file,
        filename=invoice.original_name or f"invoice-{invoice.pk}.pdf",
        content_type="application/pdf",
    )


# --- the manager's link (no login) --------------------------------------------------


@never_cache
def manager_support_view(request: HttpRequest, token: str) -> HttpResponse:
    link = selectors.support_link_get(token=token)
    problem = services.support_link_problem(link)
    form = ManagerSupportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    done = False
    if problem is None and request.method == "POST" and form.is_valid():
        try:
            services.record_manager_support(token, **form.cleaned_data)
        except services.FundingError as exc:
            problem = str(exc)
        else:
            done = True
    status = 200
    if problem and not done:
        status = 404 if link is None else 410
    response = render(
        request,
        "funding/manager_support.html",
        {
            "link": link,
            "funding_request": link.request if link else None,
            "form": form,
            "problem": problem,
            "done": done,
            "supported": form.cleaned_data.get("supported") if done else None,
        },
        status=status,
    )
    # The token is in the address: keep it out of other sites' Referer headers
    # and out of indexes. ("no-referrer" would make browsers send Origin: null
    # and fail the CSRF check on the form.)
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response
