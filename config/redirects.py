"""The one way to redirect to a target the user supplied (`next`, a form field).

`django.shortcuts.redirect()` treats a bare word as a view name and raises
NoReverseMatch when there is none, and `url_has_allowed_host_and_scheme` calls
"foo" safe because it is relative. A user-supplied target is therefore only
ever a path on this site: it starts with a single "/", names no scheme or host,
and holds no control characters. Anything else gives the fallback. Views read
the target with `safe_next_path` *before* they write, so a refused target can
never leave half a request's work behind.
"""

from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

# A browser never needs more than this for one of our own addresses.
MAX_NEXT_LENGTH = 2000


def safe_next_path(request: HttpRequest, raw: object, *, fallback: str) -> str:
    """`raw` when it is a path on this site, else `fallback`. Never raises."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_NEXT_LENGTH:
        return fallback
    if not raw.startswith("/") or raw.startswith(("//", "/\\")):
        return fallback
    if any(ord(c) < 32 or ord(c) == 127 for c in raw):
        return fallback
    if not url_has_allowed_host_and_scheme(
        raw, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return fallback
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return fallback
    return raw


def safe_redirect(
    request: HttpRequest, raw: object, *, fallback: str
) -> HttpResponseRedirect:
    """A redirect to `raw` when it is a path on this site, else to `fallback`
    (itself a path, never a view name)."""
    return HttpResponseRedirect(safe_next_path(request, raw, fallback=fallback))
