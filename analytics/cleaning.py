"""Turning a request into what analytics may keep: nothing here can name a
person once it has been through these functions.

- `visit_code`: HMAC-SHA256 of the analytics cookie and the day, keyed by a
  secret derived from SECRET_KEY (Django's `salted_hmac`). It changes every
  day and cannot be turned back into the cookie.
- `truncate_ip`: the address cut to its network, /24 for IPv4 and /48 for
  IPv6, before anything stores it.
- `page_address`: our own address with each query value dropped, only the
  names kept ("/courses/?q&topic"), since a value may be something typed; an
  address holding an id or a token ("/unsubscribe/<token>/") is kept as its
  route pattern.
- `clean_referrer`: the same for our own pages; another site is kept as its
  origin only ("https://www.example.org").
- `parse_user_agent`: browser family and major version, OS family and a
  device type, from the maintained uap-core rules (ua-parser).
"""

import contextlib
import datetime as dt
import functools
import ipaddress
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest
from django.urls import resolve
from django.utils import timezone
from django.utils.crypto import salted_hmac

_VISIT_SALT = "cpd.analytics.visit-code"
PATH_MAX = 500
REFERRER_MAX = 500


def visit_code(cookie_id: str, day: dt.date | None = None) -> str:
    day = day or timezone.localdate()
    return salted_hmac(
        _VISIT_SALT, f"{cookie_id}|{day.isoformat()}", algorithm="sha256"
    ).hexdigest()[:32]


_ACCOUNT_SALT = "cpd.analytics.account-code"


def account_code(user_id: int) -> str:
    """The code a signed-in person's analytics rows carry, so that erasure and
    export find them: an HMAC of the account id (keyed from SECRET_KEY), never
    shown to staff and never the id itself."""
    return salted_hmac(_ACCOUNT_SALT, str(user_id), algorithm="sha256").hexdigest()[:32]


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address the trusted proxies saw (as allauth's limits
    read it: TRUSTED_PROXY_COUNT entries from the right of X-Forwarded-For)."""
    proxies = getattr(settings, "ALLAUTH_TRUSTED_PROXY_COUNT", 0)
    if proxies:
        chain = [
            a.strip()
            for a in request.headers.get("X-Forwarded-For", "").split(",")
            if a.strip()
        ]
        if len(chain) >= proxies:
            return chain[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def truncate_ip(address: str) -> str:
    """'203.0.113.0/24' or '2001:db8:1::/48'; '' for anything not an address."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _names_only(query: str) -> str:
    names: list[str] = []
    for name, _value in parse_qsl(query, keep_blank_values=True):
        name = name[:50]
        if name and name not in names:
            names.append(name)
    return "&".join(names[:20])


def clean_path(path: str, query: str) -> str:
    names = _names_only(query)
    cleaned = f"{path}?{names}" if names else path
    return cleaned[:PATH_MAX]


# Routes whose address parts name something public (a course, a service, a
# published notice): their addresses are kept as they are. Any other route with
# parts in its address (a booking's id, an unsubscribe token, a reset key) is
# kept as its pattern, "/bookings/<int:booking_id>/cancel/", since the part
# could lead to a person or is itself a secret.
PUBLIC_ADDRESS_ROUTES = frozenset(
    {
        "courses:detail",
        "products:detail",
        "consent:privacy_version",
        "consent:cookies_version",
    }
)


def page_address(path: str, query: str, match) -> str:
    """The address to keep for a page: its path, or its route pattern when
    the path holds an id or a token (see PUBLIC_ADDRESS_ROUTES), with query
    names only."""
    if match is None:
        return ""
    if match.kwargs and match.view_name not in PUBLIC_ADDRESS_ROUTES:
        path = "/" + match.route
    return clean_path(path, query)


def clean_referrer(referrer: str, *, own_hosts: set[str]) -> str:
    if not referrer:
        return ""
    try:
        parts = urlsplit(referrer[:2000])
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    if parts.netloc.lower() in own_hosts:
        try:
            match = resolve(parts.path or "/")
        except Http404:
            return ""  # not one of our pages: nothing typed in it is kept
        return page_address(parts.path or "/", parts.query, match)
    return f"{parts.scheme}://{parts.netloc.lower()}"[:REFERRER_MAX]


def own_hosts(request: HttpRequest) -> set[str]:
    hosts = {urlsplit(settings.SITE_URL).netloc.lower()}
    # A Host not in ALLOWED_HOSTS raises: then only SITE_URL counts.
    with contextlib.suppress(Exception):
        hosts.add(request.get_host().lower())
    return hosts


@functools.lru_cache(maxsize=2048)
def parse_user_agent(user_agent: str) -> tuple[str, str, str, str]:
    """(browser, browser major version, OS, device type)."""
    if not user_agent:
        return "", "", "", "other"
    from ua_parser import parse

    result = parse(user_agent[:1000])
    agent, system, device = result.user_agent, result.os, result.device
    browser = agent.family if agent else ""
    version = (agent.major or "") if agent else ""
    os_family = system.family if system else ""
    return (
        browser[:50],
        version[:20],
        os_family[:50],
        _device_type(user_agent, os_family, device.family if device else ""),
    )


def _device_type(user_agent: str, os_family: str, device_family: str) -> str:
    # uap-core names the device (iPhone, Spider...), not its kind: the kind
    # follows from it and from the usual "Mobile" / tablet markers.
    lowered = user_agent.lower()
    if device_family == "Spider" or "bot" in lowered or "crawler" in lowered:
        return "bot"
    if "ipad" in lowered or "tablet" in lowered or device_family.startswith("iPad"):
        return "tablet"
    if os_family == "Android" and "mobile" not in lowered:
        return "tablet"
    if "mobile" in lowered or os_family in ("iOS", "Android"):
        return "mobile"
    if os_family in (
        "Windows",
        "Mac OS X",
        "macOS",
        "Linux",
        "Ubuntu",
        "Chrome OS",
        "Fedora",
        "FreeBSD",
    ):
        return "desktop"
    return "other"
