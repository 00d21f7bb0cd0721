from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
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
