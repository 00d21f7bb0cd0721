import base64

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from consent.models import Channel, Purpose

from . import services


# No CSRF token: mail clients send the RFC 8058 one-click POST with no cookie
# or form; the signed token is what proves the link is the person's own. A GET
# never changes anything, so mail scanners that follow links unsubscribe no one.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        _person, purpose, channel = services.read_unsubscribe_token(token)
    except services.MarketingError as exc:
        return render(
            request, "marketing/unsubscribe_invalid.html", {"error": exc}, status=400
        )
    done = False
    if request.method == "POST":
        services.unsubscribe(token)
        done = True
    return render(
        request,
        "marketing/unsubscribe.html",
        {
            "done": done,
            "purpose": Purpose(purpose),
            "channel": Channel(channel),
            "token": token,
        },
    )


# A transparent 1x1 GIF.
_PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@never_cache
@require_http_methods(["GET", "HEAD"])
def opened_view(request: HttpRequest, code: str) -> HttpResponse:
    """The opening image in a campaign email. The same image whatever the
    code, so it tells a visitor nothing; an open is recorded only for a
    person who still allows measuring."""
    if len(code) <= 40:
        services.record_opened(code)
    return HttpResponse(_PIXEL, content_type="image/gif")


@never_cache
@require_http_methods(["GET", "HEAD"])
def link_view(request: HttpRequest, code: str, n: int) -> HttpResponse:
    """A measured link: on to the campaign's own link number `n` (never an
    address from the request), recording the click if the person allows it."""
    target = services.record_click(code, n) if len(code) <= 40 else None
    if target is None:
        return render(request, "marketing/link_unknown.html", status=404)
    return HttpResponseRedirect(target)
