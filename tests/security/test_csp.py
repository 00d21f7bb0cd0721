"""The Content-Security-Policy and the other security headers, on every page.

Every URL pattern under `config.urls` (admin and allauth included) is asked
for, with the permission matrix's world of real objects and ids, as the first
role the matrix's rules let see it. Every response must carry the enforced
policy below and the other security headers; every HTML page must have only
scripts the policy lets run (a same-origin `src`, or this response's nonce) and
nothing it would block (inline style attributes and <style>, event handler
attributes, `javascript:` URLs, plugins, frames, foreign stylesheets, images
or form targets). A new URL is checked without anyone adding it here; the
page types the review named must each have been seen as an HTML page. Pages
the walk cannot reach (the error pages, the 503 outage page, the two-factor
steps of signing in, admin action confirmations) have their own tests.

The expected policy is written out here, not read from settings, so loosening
the settings fails this test.
"""

import copy
import datetime as dt
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import transaction
from django.test import Client
from django.utils import timezone

from privacy.models import DataSubjectRequest
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp

from . import world as w
from .test_permission_matrix import OK, PATTERNS, paths_for

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],  # and this response's nonce, when a page uses one
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}
NEVER_IN_POLICY = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*")
DENIED_FEATURES = (
    "camera",
    "microphone",
    "geolocation",
    "payment",
    "usb",
    "serial",
    "hid",
    "interest-cohort",
    "browsing-topics",
)
OTHER_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# <script type> values that are data, never run (allauth's JSON data blocks).
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "data")
# What the policy loads or sends only to this site (img-src also allows data:).
SAME_ORIGIN_ONLY = {
    "link": ("href", "a stylesheet or link"),
    "img": ("src", "an image"),
    "form": ("action", "a form target"),
}

# The page types the review named: each must have been checked as an HTML page.
PAGE_TYPES = {
    "courses:home",
    "courses:list",
    "courses:detail",
    "bookings:list",
    "bookings:cancel",
    "bookings:evaluate",
    "bookings:training_record",
    "bookings:transactions",
    "funding:list",
    "funding:new",
    "funding:detail",
    "funding:support",
    "accounts:profile",
    "accounts:edit",
    "consent:preferences",
    "consent:privacy",
    "consent:cookies",
    "privacy:my_data",
    "marketing:unsubscribe",
    "account_login",
    "account_signup",
    "account_email",
    "account_reset_password",
    "mfa_index",
    "bookings:register",
    "bookings:session_email",
    "funding:officer_queue",
    "privacy:processing_record",
    "admin:index",
    "admin:courses_course_changelist",
    "admin:courses_course_change",
    "admin:courses_session_add",
    "admin:privacy_datasubjectrequest_changelist",  # with an overdue request
    "admin:accounts_user_change",
}
# Who asks for each pattern: a visitor and a learner, each if the matrix's
# rules let them see it; else the first staff role that may; else a superuser.
VISITORS = (w.ANONYMOUS, w.LEARNER)
STAFF_ORDER = (w.COURSE_ADMIN, w.BOOKING_ADMIN, w.FUNDING_OFFICER, w.DPO)


# --- what a response must be --------------------------------------------------------


def parse_policy(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def header_problems(response) -> tuple[list[str], str | None]:
    """(problems, the nonce the policy allows or None)."""
    problems = []
    if "Content-Security-Policy-Report-Only" in response:
        problems.append("a report-only policy (the policy must be enforced)")
    header = response.get("Content-Security-Policy")
    if not header:
        return ["no Content-Security-Policy header"], None
    policy = parse_policy(header)
    nonces = [v for v in policy.get("script-src", []) if v.startswith("'nonce-")]
    if len(nonces) > 1:
        problems.append(f"more than one nonce: {nonces}")
    got = {k: [v for v in vs if v not in nonces] for k, vs in policy.items()}
    if got != POLICY:
        problems.append(f"policy {header!r}, expected {POLICY}")
    problems += [f"{bad} in the policy" for bad in NEVER_IN_POLICY if bad in header]
    features = response.get("Permissions-Policy", "")
    problems += [
        f"Permissions-Policy does not deny {f}"
        for f in DENIED_FEATURES
        if f"{f}=()" not in features.replace(" ", "").split(",")
    ]
    for name, value in OTHER_HEADERS.items():
        if response.get(name) != value:
            problems.append(f"{name} is {response.get(name)!r}, expected {value!r}")
    nonce = nonces[0][len("'nonce-") : -1] if nonces else None
    return problems, nonce


def same_origin(url: str) -> bool:
    parts = urlsplit(url.strip())
    if not parts.scheme and not parts.netloc:
        return True
    return parts.scheme in ("http", "https") and parts.netloc == "testserver"


class _PageChecker(HTMLParser):
    """Everything in a page that the policy would block, or would let run
    without our say-so."""

    def __init__(self, nonce: str | None):
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        self.problems: list[str] = []
        self.scripts = 0

    def _problem(self, tag: str, attrs: dict, what: str) -> None:
        shown = " ".join(f'{k}="{v}"' if v is not None else k for k, v in attrs.items())
        self.problems.append(f"<{tag} {shown}>: {what}"[:300])

    def handle_starttag(self, tag, attr_list):
        attrs = dict(attr_list)
        for name, value in attrs.items():
            if name.startswith("on"):
                self._problem(tag, attrs, f"event handler attribute {name}=")
            if name == "style":
                self._problem(tag, attrs, "inline style attribute")
            if (
                name in URL_ATTRIBUTES
                and value
                and re.sub(r"[\s\x00-\x1f]", "", value)
                .lower()
                .startswith("javascript:")
            ):
                self._problem(tag, attrs, "javascript: URL")
        if tag == "script":
            self.scripts += 1
            kind = (attrs.get("type") or "").strip().lower()
            if kind in DATA_SCRIPT_TYPES:
                return
            if attrs.get("src") is not None:
                if not same_origin(attrs["src"]):
                    self._problem(tag, attrs, "script from another origin")
            elif self.nonce is None or attrs.get("nonce") != self.nonce:
                self._problem(tag, attrs, "inline script without this response's nonce")
        elif tag == "style":
            self._problem(tag, attrs, "<style> block (style-src has no nonce)")
        elif tag in ("iframe", "frame", "object", "embed", "base"):
            self._problem(tag, attrs, f"<{tag}> (the policy refuses it)")
        elif tag in SAME_ORIGIN_ONLY:
            name, what = SAME_ORIGIN_ONLY[tag]
            url = attrs.get(name) or ""
            data_image = tag == "img" and url.startswith("data:")
            if url and not same_origin(url) and not data_image:
                self._problem(tag, attrs, f"{what} from another origin")


def is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


def page_problems(response) -> list[str]:
    """Everything wrong with one response: its headers and, if HTML, its page."""
    problems, nonce = header_problems(response)
    if is_html(response) and not response.streaming:
        checker = _PageChecker(nonce)
        checker.feed(response.content.decode())
        checker.close()
        problems += checker.problems
    return problems


# --- the walk over every URL --------------------------------------------------------


def roles_to_ask(rule) -> list[str]:
    roles = [r for r in VISITORS if OK in rule(r, "GET").outcomes]
    if roles:
        return roles
    for role in STAFF_ORDER:
        if OK in rule(role, "GET").outcomes:
            return [role]
    return [SUPERUSER_WITH_MFA]  # e.g. groups and permissions: superusers only


SUPERUSER_WITH_MFA = "superuser with two-factor authentication"


@pytest.fixture
def world_with_superuser(world):
    # An overdue request, so the requests' list shows its highlighted due date.
    DataSubjectRequest.objects.create(
        person=world.things["learner"],
        kind=DataSubjectRequest.Kind.ACCESS,
        received_at=timezone.now() - dt.timedelta(days=60),
    )
    superuser = UserFactory.create(is_staff=True, is_superuser=True)
    give_totp(superuser)
    client = Client()
    client.force_login(superuser)
    world.clients[SUPERUSER_WITH_MFA] = client
    yield world
    del world.clients[SUPERUSER_WITH_MFA]


def get_undone(world, role: str, path: str):
    """A GET as `role` whose writes (a session, a last-seen time) are undone."""
    client = world.clients[role]
    cookies = copy.deepcopy(client.cookies)
    savepoint = transaction.savepoint()
    try:
        return client.get(path)
    finally:
        transaction.savepoint_rollback(savepoint)
        client.cookies = cookies


def test_every_url_carries_the_policy_and_nothing_it_would_block(
    world_with_superuser,
):
    world = world_with_superuser
    problems, html_pages, checked = [], set(), 0
    for pattern in PATTERNS:
        paths = paths_for(pattern, world)
        assert not isinstance(paths, str), paths
        for path, rule, _data in paths:
            for role in roles_to_ask(rule):
                response = get_undone(world, role, path)
                checked += 1
                problems += [f"{role} GET {path}: {p}" for p in page_problems(response)]
                if response.status_code == 200 and is_html(response):
                    html_pages.add(pattern.key)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    assert checked > 250  # about 300 requests
    assert len(html_pages) > 150  # about 190 patterns answer with a page
    missing = PAGE_TYPES - html_pages
    assert not missing, f"never seen as an HTML page: {sorted(missing)}"


# --- pages the walk cannot reach ----------------------------------------------------


def assert_clean(response, *, status: int = 200, contains: str = "") -> None:
    assert response.status_code == status, response
    assert is_html(response)
    assert contains in response.content.decode()
    problems = page_problems(response)
    assert not problems, "\n".join(problems)


def test_the_nonce_is_new_for_every_response_and_matches_the_page(client):
    # The catalogue is cached whole for visitors without a session: its nonce
    # must still be the response's own, not the one it was first rendered with.
    for path in ("/", "/courses/", "/courses/", "/accounts/login/"):
        nonces = []
        for _ in range(2):
            response = Client().get(path)
            assert_clean(response)
            _, nonce = header_problems(response)
            assert nonce, f"{path}: its inline scripts need a nonce in the policy"
            assert f'nonce="{nonce}"' in response.content.decode()
            nonces.append(nonce)
        assert nonces[0] != nonces[1], f"{path} reused its nonce"


def test_a_response_without_inline_scripts_needs_no_nonce(client):
    response = client.get("/healthz")
    problems, nonce = header_problems(response)
    assert not problems, problems
    assert nonce is None


def test_error_pages(client, learner_client):
    assert_clean(client.get("/no-such-page/"), status=404, contains="Page not found")
    assert_clean(
        client.get("/courses/", {"q": "a\x00b"}),
        status=400,
        contains="cannot contain",
    )
    assert_clean(
        learner_client.get("/staff/processing/"),
        status=403,
        contains="You do not have access",
    )


@pytest.mark.urls("tests.security.csp_urls")
def test_the_500_and_503_outage_pages():
    client = Client(raise_request_exception=False)
    assert_clean(
        client.get("/csp-test/error/"),
        status=500,
        contains="there is a problem with the service",
    )
    outage = client.get("/csp-test/outage/")
    assert outage["Retry-After"]
    assert_clean(outage, status=503, contains="the service is unavailable")


def _password_login(email: str) -> Client:
    client = Client()
    response = client.post(
        "/accounts/login/", {"login": email, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302, response
    return client


def test_the_two_factor_steps_of_signing_in_and_setting_up(verified_user):
    # Signing in with an authenticator: the code page comes after the password.
    with_totp = UserFactory.create(email="staff@cpd.example")
    with_totp.emailaddress_set.create(
        email=with_totp.email, primary=True, verified=True
    )
    TOTP.activate(with_totp, generate_totp_secret())
    client = _password_login(with_totp.email)
    assert_clean(client.get("/accounts/2fa/authenticate/"), contains='name="code"')

    # Setting one up, right after a password sign-in: the QR code is a data:
    # image, which img-src allows.
    # allauth asks for the password again first (that page is checked too).
    client = _password_login(verified_user.email)
    confirm = client.get("/accounts/reauthenticate/")
    assert_clean(confirm, contains='name="password"')
    client.post("/accounts/reauthenticate/", {"password": "correct-horse-battery"})
    page = client.get("/accounts/2fa/totp/activate/")
    assert_clean(page, contains='src="data:image/svg+xml')


def test_admin_action_confirmation_pages(world):
    learner = world.things["learner"]
    dsr = DataSubjectRequest.objects.create(
        person=learner, kind=DataSubjectRequest.Kind.ERASURE, identity_verified=True
    )
    dpo = world.clients[w.DPO]
    savepoint = transaction.savepoint()
    try:
        erase = dpo.post(
            "/admin/privacy/datasubjectrequest/",
            {"action": "erase_data", "_selected_action": [dsr.pk], "index": "0"},
        )
        assert_clean(erase, contains="Yes, erase this person")
        topic = world.objects["courses.topic"]
        delete = world.clients[w.COURSE_ADMIN].post(
            "/admin/courses/topic/",
            {"action": "delete_selected", "_selected_action": [topic.pk], "index": "0"},
        )
        assert_clean(delete, contains='<input type="hidden" name="post" value="yes">')
    finally:
        transaction.savepoint_rollback(savepoint)
