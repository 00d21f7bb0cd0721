"""Input the application can never make sense of is refused at the door.

A NUL byte or another control character in a path, a query string or a form
value reaches PostgreSQL (which refuses NUL in text and raises, a 500) or ends
up stored where nobody can read it. A very long query string makes a slow
search and a huge cache key. Both get a clear 400 page before any view runs, so
nothing is written. Tabs and line breaks stay allowed in form values (a
textarea sends them); nowhere else do they make sense.
"""

import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

# C0 controls and DEL; tab, line feed and carriage return are allowed in form
# values only.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# No search, filter or link of ours comes near this; a longer query string is
# refused rather than searched.
MAX_QUERY_STRING = 4096


def _bad_request(request: HttpRequest, reason: str) -> HttpResponse:
    # The page's own address is what was refused: never echo it back.
    return render(
        request,
        "400.html",
        {"reason": reason, "current_path": "/"},
        status=400,
    )


class RefuseUnreadableInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _CONTROL.search(request.path):
            return _bad_request(
                request, _("The web address contains a character it cannot contain.")
            )
        if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_STRING:
            return _bad_request(
                request,
                _("The web address is too long. Shorten your search and try again."),
            )
        for key, values in request.GET.lists():
            if _CONTROL.search(key) or any(_CONTROL.search(v) for v in values):
                return _bad_request(
                    request,
                    _("The web address contains a character it cannot contain."),
                )
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            for key, values in request.POST.lists():
                if _CONTROL.search(key) or any(
                    _CONTROL_IN_TEXT.search(v) for v in values
                ):
                    return _bad_request(
                        request,
                        _(
                            "The form contains a character that cannot be typed, "
                            "such as a NUL. Remove it and send the form again."
                        ),
                    )
        return self.get_response(request)
