"""Learners' funding pages and the manager's support page (no login)."""

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from config.idempotency import idempotent

from . import selectors, services
from .forms import (
    CourseForm,
    ManagerForm,
    ManagerSupportForm,
    ProgressForm,
    ReasonForm,
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


# --- the request's task list ------------------------------------------------------
#
# A draft (or a request reopened for more information) is a GOV.UK task list:
# each section is its own page; "Save and continue" asks for every answer of
# the page, "Save as draft and come back later" keeps what was given. A page
# reached from "Check your answers" (?return=check) goes back there.


def _completing(request: HttpRequest) -> bool:
    return request.method == "POST" and "later" not in request.POST


def _returns_to_check(request: HttpRequest) -> bool:
    # A fixed word, never an address: nothing here can send people elsewhere.
    return request.GET.get("return") == "check"


def _after_task(request: HttpRequest, funding_request: FundingRequest, section: str):
    if "later" in request.POST:
        messages.success(
            request,
            _("Your answers are saved. You can come back to this request later."),
        )
        return redirect("funding:list")
    messages.success(request, _("%(section)s: saved.") % {"section": section})
    if _returns_to_check(request):
        return redirect("funding:check", funding_request.pk)
    return redirect(funding_request)


def _editable_or_back(request: HttpRequest, funding_request: FundingRequest):
    """None when the request may be changed; else where to send the person."""
    if funding_request.is_editable:
        return None
    messages.error(request, _("This request can no longer be changed."))
    return redirect(funding_request)


def _task_page(request, template: str, funding_request, form, **extra):
    return render(
        request,
        template,
        {
            "form": form,
            "funding_request": funding_request,
            "return_to_check": _returns_to_check(request),
            **extra,
        },
    )


def _course_page(request: HttpRequest, funding_request: FundingRequest | None):
    form = CourseForm(
        request.POST if request.method == "POST" else None,
        instance=funding_request,
        person=request.user,
        complete=_completing(request),
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_funding_request(
                request.user, funding_request=funding_request, **form.service_fields()
            )
        except services.FundingError as exc:
            form.add_error(None, str(exc))
        else:
            return _after_task(request, saved, _("Course, provider and cost"))
    return _task_page(
        request,
        "funding/task_course.html",
        funding_request,
        form,
        allowances=selectors.allowances_for_person(person=request.user),
    )


@login_required
@idempotent
def funding_request_new_view(request: HttpRequest) -> HttpResponse:
    """The first section's page; saving it creates the draft (once: the form's
    token makes a second identical POST a replay)."""
    return _course_page(request, None)


@login_required
@idempotent
def funding_task_course_view(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = _my_request(request, pk)
    return _editable_or_back(request, funding_request) or _course_page(
        request, funding_request
    )


@login_required
@idempotent
def funding_task_reason_view(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = _my_request(request, pk)
    if back := _editable_or_back(request, funding_request):
        return back
    form = ReasonForm(
        request.POST if request.method == "POST" else None,
        instance=funding_request,
        complete=_completing(request),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_funding_request(
                request.user,
                funding_request=funding_request,
                reason=form.cleaned_data["reason"],
            )
        except services.FundingError as exc:
            form.add_error(None, str(exc))
        else:
            return _after_task(
                request, funding_request, _("Why you want to do this course")
            )
    return _task_page(request, "funding/task_reason.html", funding_request, form)


@login_required
@require_GET
def funding_request_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The old single form's address: the task list (or the request) now."""
    return redirect(_my_request(request, pk))


@login_required
def funding_request_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = get_object_or_404(
        selectors.funding_request_detail(
            queryset=selectors.funding_requests_for_person(person=request.user)
        ),
        pk=pk,
    )
    events = funding_request.events.all()
    if funding_request.is_editable:
        tasks = _tasks(funding_request)
        return render(
            request,
            "funding/request_tasks.html",
            {
                "funding_request": funding_request,
                "tasks": tasks,
                "done": sum(t["status"] == selectors.COMPLETED for t in tasks[:-1]),
                "sections": len(tasks) - 1,
                "events": events,
            },
        )
    return render(
        request,
        "funding/request_detail.html",
        {"funding_request": funding_request, "events": events},
    )


def _tasks(funding_request: FundingRequest) -> list[dict]:
    return selectors.request_tasks(
        funding_request,
        needs_round=funding_request.round_id is None
        and selectors.rounds_open().exists(),
        has_documents=bool(funding_request.documents.all()),
    )


@login_required
def funding_check_view(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = get_object_or_404(
        selectors.funding_request_detail(
            queryset=selectors.funding_requests_for_person(person=request.user)
        ),
        pk=pk,
    )
    if back := _editable_or_back(request, funding_request):
        return back
    tasks = _tasks(funding_request)
    return render(
        request,
        "funding/check_answers.html",
        {
            "funding_request": funding_request,
            "ready": tasks[-1]["status"] != selectors.CANNOT_START,
            "unfinished": [t for t in tasks[:-1] if t["status"] != selectors.COMPLETED],
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
        if funding_request.is_editable:
            return redirect("funding:check", funding_request.pk)
    else:
        messages.success(
            request,
            _("Your request has been submitted. We have emailed your manager."),
        )
    return redirect(funding_request)


@login_required
@idempotent
def funding_documents_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The supporting-documents section: what is uploaded, a link to add one,
    and "Save and continue" (documents are optional: none is an answer)."""
    funding_request = _my_request(request, pk)
    if back := _editable_or_back(request, funding_request):
        return back
    if request.method == "POST":
        try:
            services.save_funding_request(
                request.user,
                funding_request=funding_request,
                documents_confirmed=True,
            )
        except services.FundingError as exc:
            messages.error(request, str(exc))
            return redirect(funding_request)
        return _after_task(request, funding_request, _("Supporting documents"))
    return render(
        request,
        "funding/task_documents.html",
        {
            "funding_request": funding_request,
            "documents": funding_request.documents.all(),
            "return_to_check": _returns_to_check(request),
        },
    )


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
            if funding_request.is_editable:
                return redirect("funding:documents", funding_request.pk)
            return redirect(funding_request)
    return render(
        request,
        "funding/document_form.html",
        {"funding_request": funding_request, "form": form},
    )


@login_required
@idempotent
def funding_manager_view(request: HttpRequest, pk: int) -> HttpResponse:
    """In a draft, the "Your manager" section; while the request waits for
    the manager, changing them (the old link stops, the new manager is sent
    one)."""
    funding_request = _my_request(request, pk)
    drafting = funding_request.is_editable
    waiting = funding_request.status in (
        FundingRequest.Status.AWAITING_MANAGER,
        FundingRequest.Status.NOT_SUPPORTED,
    )
    if not (drafting or waiting):
        messages.error(request, _("The manager can no longer be changed."))
        return redirect(funding_request)
    form = ManagerForm(
        request.POST if request.method == "POST" else None,
        person=request.user,
        complete=waiting or _completing(request),
        initial={
            "manager_name": funding_request.manager_name,
            "manager_email": funding_request.manager_email,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            if drafting:
                services.save_funding_request(
                    request.user, funding_request=funding_request, **form.cleaned_data
                )
            else:
                services.change_manager(
                    funding_request, **form.cleaned_data, by=request.user
                )
        except services.FundingError as exc:
            form.add_error(None, str(exc))
        else:
            if drafting:
                return _after_task(request, funding_request, _("Your manager"))
            messages.success(
                request,
                _("Your manager has been changed. We have emailed %(manager)s.")
                % {"manager": form.cleaned_data["manager_name"]},
            )
            return redirect(funding_request)
    return _task_page(
        request,
        "funding/manager_form.html",
        funding_request,
        form,
        drafting=drafting,
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
def funding_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks "Are you sure?"; the POST withdraws (a second one is replayed)."""
    funding_request = _my_request(request, pk)
    if request.method == "POST":
        try:
            services.withdraw_funding_request(funding_request, by=request.user)
        except services.FundingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("You have withdrawn your request."))
        return redirect(funding_request)
    if not funding_request.is_withdrawable:
        messages.error(
            request, _("Only a submitted request without a decision can be withdrawn.")
        )
        return redirect(funding_request)
    return render(
        request, "funding/request_withdraw.html", {"funding_request": funding_request}
    )


@login_required
@idempotent
def funding_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks "Are you sure?"; the POST deletes the draft and its files."""
    funding_request = _my_request(request, pk)
    if request.method == "POST":
        try:
            services.delete_draft(funding_request, by=request.user)
        except services.FundingError as exc:
            messages.error(request, str(exc))
            return redirect(funding_request)
        messages.success(
            request,
            _("Your draft request for %(course)s has been deleted.")
            % {"course": funding_request.course_name},
        )
        return redirect("funding:list")
    if not funding_request.is_deletable:
        messages.error(
            request,
            _("Only a draft can be deleted. You can withdraw a submitted request."),
        )
        return redirect(funding_request)
    return render(
        request, "funding/request_delete.html", {"funding_request": funding_request}
    )


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
