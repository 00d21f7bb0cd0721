from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from config.idempotency import idempotent
from config.paging import link_pages, page_of
from config.redirects import safe_next_path

from . import selectors, services
from .forms import PreferencesForm, field_name
from .models import ConsentRecord, PolicyVersion, Purpose

ONE_YEAR = 365 * 24 * 3600


def privacy_notice_view(
    request: HttpRequest, version_id: int | None = None
) -> HttpResponse:
    return _policy_page(request, PolicyVersion.Kind.PRIVACY, version_id)


def _policy_page(
    request: HttpRequest, kind: str, version_id: int | None
) -> HttpResponse:
    versions = list(selectors.policy_versions(kind))
    if version_id is None:
        policy = versions[0] if versions else None
    else:
        policy = next((v for v in versions if v.pk == version_id), None)
        if policy is None:
            raise Http404(_("No such version"))
    return render(
        request,
        "consent/privacy_notice.html" if kind == "privacy" else "consent/cookies.html",
        {
            "policy": policy,
            "versions": versions,
            "is_current": bool(versions) and policy == versions[0],
            "purposes": selectors.processing_purposes() if kind == "privacy" else None,
            "choice": selectors.cookie_choice(request),
            "gpc": request.headers.get("Sec-GPC") == "1",
        },
    )


@require_http_methods(["GET", "POST"])
def cookies_view(request: HttpRequest, version_id: int | None = None) -> HttpResponse:
    if request.method == "GET":
        return _policy_page(request, PolicyVersion.Kind.COOKIES, version_id)
    choice = request.POST.get("analytics")
    if choice not in ("accept", "reject"):
        messages.error(request, _("Choose whether to accept analytics cookies."))
        return redirect("consent:cookies")
    accepted = choice == "accept"
    # Read and check the target before writing anything: a bad `next` must not
    # leave a consent record without its cookie.
    next_url = safe_next_path(request, request.POST.get("next"), fallback="/cookies/")
    if request.user.is_authenticated:
        services.update_preferences(
            request.user,
            {(Purpose.ANALYTICS, "web"): accepted},
            source=ConsentRecord.Source.COOKIE_BANNER,
        )
    if accepted:
        messages.success(request, _("You have accepted analytics cookies."))
    else:
        messages.success(request, _("You have rejected analytics cookies."))
    response = HttpResponseRedirect(next_url)
    response.set_cookie(
        selectors.COOKIE_NAME,
        "accepted" if accepted else "rejected",
        max_age=ONE_YEAR,
        secure=settings.HTTPS,
        httponly=True,
        samesite="Lax",
    )
    return response


@login_required
@idempotent
def preferences_view(request: HttpRequest) -> HttpResponse:
    current = selectors.current_choices(request.user)
    form = PreferencesForm(
        request.POST if request.method == "POST" else None,
        initial={field_name(p, c): v for (p, c), v in current.items()},
    )
    if request.method == "POST" and form.is_valid():
        changed = services.update_preferences(
            request.user, form.wanted(), source=ConsentRecord.Source.PREFERENCES
        )
        if changed:
            messages.success(
                request, _("Your choices have been saved. They apply straight away.")
            )
        else:
            messages.info(request, _("You did not change any choices."))
        return redirect("consent:preferences")
    # A record is added at every choice (the cookie banner's included), so
    # the history grows for as long as the person uses the service.
    history = page_of(request, selectors.consent_history(request.user), "history")
    link_pages(history)
    return render(
        request,
        "consent/preferences.html",
        {
            "form": form,
            "history": history.object_list,
            "history_page": history,
            "restricted": request.user.processing_restricted,
            "objected": request.user.objects_to_direct_marketing,
        },
    )


def contact_view(request: HttpRequest) -> HttpResponse:
    return render(
        request, "consent/contact.html", {"teams": selectors.contact_points()}
    )
