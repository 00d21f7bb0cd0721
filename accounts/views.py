from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from config.idempotency import idempotent
from config.redirects import safe_next_path

from . import selectors, services
from .forms import CloseAccountForm, CompleteProfileForm, EqualityForm, ProfileForm


def _say_suggested(form, suggestion) -> None:
    """Say why the workplace is chosen already, before any other hint (such
    as "These are the first 20 found"), while it is the one chosen."""
    if form.is_bound and form.data.get("organisation") != str(suggestion.pk):
        return
    field = form.fields["organisation"]
    said = _(
        "We have chosen %(org)s because your email address ends in its "
        "domain. Change it if you work somewhere else."
    ) % {"org": suggestion.name}
    field.help_text = f"{said} {field.help_text}".strip()


@login_required
def profile_detail_view(request: HttpRequest) -> HttpResponse:
    profile = services.profile_for(request.user)
    return render(
        request,
        "accounts/profile_detail.html",
        {
            "profile": profile,
            "membership": selectors.membership_of(request.user, profile.organisation),
            "roles": selectors.roles_held(request.user),
            "profile_missing": selectors.profile_missing(request.user),
        },
    )


@login_required
@idempotent
def profile_complete_view(request: HttpRequest) -> HttpResponse:
    """Workplace and job title, asked after sign-up and from the account page
    until given. "I'll do this later" goes on to `next` and changes nothing."""
    next_path = safe_next_path(request, request.GET.get("next"), fallback="")
    if request.method == "POST":
        next_path = safe_next_path(request, request.POST.get("next"), fallback="")
    done_path = next_path or reverse("accounts:profile")
    if not selectors.profile_missing(request.user) and request.method == "GET":
        return redirect(done_path)
    profile = services.profile_for(request.user)
    initial = {
        "organisation": profile.organisation_id,
        "job_title": profile.job_title,
    }
    suggestion = None
    if profile.organisation is None:
        suggestion = selectors.suggested_organisation(request.user.email)
        if suggestion is not None:
            initial["organisation"] = suggestion.pk
    form = CompleteProfileForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    if suggestion is not None:
        _say_suggested(form, suggestion)
    if request.method == "POST" and form.is_valid():
        services.complete_profile(request.user, **form.cleaned_data)
        messages.success(request, _("Your profile is complete."))
        return redirect(done_path)
    return render(
        request,
        "accounts/profile_complete.html",
        {"form": form, "next_path": next_path, "later_path": done_path},
    )


@login_required
@idempotent
def profile_edit_view(request: HttpRequest) -> HttpResponse:
    profile = services.profile_for(request.user)
    initial = {
        "first_name": request.user.first_name,
        "last_name": request.user.last_name,
        "organisation": profile.organisation_id,
        "job_title": profile.job_title,
        "phone": profile.phone,
        "address_line_1": profile.address_line_1,
        "address_line_2": profile.address_line_2,
        "town": profile.town,
        "postcode": profile.postcode,
    }
    suggestion = None
    if profile.organisation is None:
        # An organisation that registered the person's email domain is offered.
        suggestion = selectors.suggested_organisation(request.user.email)
        if suggestion is not None:
            initial["organisation"] = suggestion.pk
    form = ProfileForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    if suggestion is not None:
        _say_suggested(form, suggestion)
    if request.method == "POST" and form.is_valid():
        services.update_profile(request.user, **form.cleaned_data)
        messages.success(request, _("Your details have been saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile_edit.html", {"form": form})


@login_required
@idempotent
def profile_equality_view(request: HttpRequest) -> HttpResponse:
    profile = services.profile_for(request.user)
    form = EqualityForm(
        request.POST if request.method == "POST" else None,
        initial=EqualityForm.initial_from(profile),
    )
    if request.method == "POST" and form.is_valid():
        services.update_equality_data(request.user, **form.profile_values())
        messages.success(
            request, _("Your equality monitoring answers have been saved.")
        )
        return redirect("accounts:profile")
    return render(request, "accounts/profile_equality.html", {"form": form})


@login_required
@idempotent
def account_close_view(request: HttpRequest) -> HttpResponse:
    form = CloseAccountForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.close_own_account(request.user)
        except services.AccountsError as exc:
            messages.error(request, str(exc))
            return redirect("accounts:profile")
        logout(request)
        messages.success(
            request, _("Your account is closed. You have been signed out.")
        )
        return redirect("accounts:closed")
    return render(
        request,
        "accounts/account_close.html",
        {
            "form": form,
            "retention_years": settings.PRIVACY_RETENTION["closed_accounts_years"],
        },
    )


def account_closed_view(request: HttpRequest) -> HttpResponse:
    """Shown after closing, and to anyone who signs in to a closed account."""
    return render(
        request,
        "accounts/account_closed.html",
        {"retention_years": settings.PRIVACY_RETENTION["closed_accounts_years"]},
    )
