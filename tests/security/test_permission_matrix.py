"""The permission matrix, built from the URL resolver so a new URL cannot be missed.

Every pattern under `config.urls` (admin and allauth included) is asked for, by
GET and by POST, as every role in `world.MATRIX_ROLES`, with the ids of learner
A's objects. What each role must get comes from RULES below (keyed by the URL
name), never from what the code happens to do. A refused POST must change no
row anywhere (a fingerprint of every table is compared). A pattern with no rule,
or whose kwargs the world cannot fill, fails the test with what to add.

The "superuser without two-factor" cells on /admin/ and /staff/ pages are kept in
their own test, `test_superuser_without_mfa_is_refused_staff_pages`.
"""

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.roles import ROLE_PERMISSIONS

from . import world as w

# The world is built once per module (see the `world` fixture); each test runs
# inside it and every request is undone by a savepoint.
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _worker_and_beat_seen():
    """As in a running service, a heartbeat was seen, so /readyz answers 200
    (tests/config/test_readyz.py covers it not being seen)."""
    from config.celery import heartbeat

    heartbeat()


# --- outcomes -------------------------------------------------------------------

OK = "ok"  # 2xx, or a redirect somewhere other than log-in or MFA set-up
BAD = "bad request (400)"
METHOD = "method not allowed (405)"
LOGIN = "sent to log in"
MFA = "sent to set up two-factor authentication"
FORBIDDEN = "forbidden (403)"
MISSING = "not found (404/410)"

ALLOWED = frozenset({OK, BAD, METHOD})
MFA_SETUP = "/accounts/2fa/totp/activate/"


def outcome(response) -> str:
    code = response.status_code
    if code in (301, 302, 303, 307, 308):
        where = response["Location"].replace("http://testserver", "")
        if where.startswith(("/accounts/login/", "/admin/login/")):
            return LOGIN
        if where.startswith(MFA_SETUP):
            return MFA
        return OK
    if code == 400:
        return BAD
    if code == 403:
        return FORBIDDEN
    if code in (404, 410):
        return MISSING
    if code == 405:
        return METHOD
    if 200 <= code < 300:
        return OK
    return f"HTTP {code}"


# --- the URL resolver -------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    key: str  # "namespace:name", or "namespace:?<route>" for an unnamed pattern
    route: str
    kwargs: tuple[str, ...]
    named: bool

    @property
    def is_back_office(self) -> bool:
        return self.route.startswith(("admin/", "staff/"))


def _walk(resolver, prefix="", namespace=(), outer_kwargs=()):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        # A kwarg can come from an enclosing include() (allauth's
        # accounts/oidc/<provider_id>/ holds its login and callback).
        kwargs = (*outer_kwargs, *entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            ns = (*namespace, entry.namespace) if entry.namespace else namespace
            yield from _walk(entry, route, ns, kwargs)
        elif isinstance(entry, URLPattern):
            name = entry.name or f"?{route}"
            yield Pattern(
                ":".join((*namespace, name)), route, tuple(kwargs), bool(entry.name)
            )


PATTERNS = list(_walk(get_resolver()))


# --- the rules: who may do what -------------------------------------------------


@dataclass(frozen=True)
class Expect:
    outcomes: frozenset
    may_change: bool  # False: a POST must leave every row as it was


def allowed(*, may_change=True) -> Expect:
    return Expect(ALLOWED, may_change)


def refused(*outcomes: str) -> Expect:
    return Expect(frozenset(outcomes), False)


Rule = Callable[[str, str], Expect]  # (role, method) -> Expect


def role_perms(role: str) -> dict[str, tuple[str, ...]]:
    return ROLE_PERMISSIONS.get(w.STAFF_GROUPS.get(role, ""), {})


def holds(role: str, perm: str) -> bool:
    """The role's declared grant (accounts/roles.py is the policy under test)."""
    if role == w.SUPERUSER:
        return True
    app_label, codename = perm.split(".")
    for model_label, actions in role_perms(role).items():
        app, model = model_label.split(".")
        for action in actions:
            name = (
                action
                if action not in ("add", "change", "delete", "view")
                else (f"{action}_{model}")
            )
            if app == app_label and name == codename:
                return True
    return False


def public(role, method) -> Expect:
    return allowed()


def signed_in(role, method) -> Expect:
    """Anyone signed in, for their own data (no id in the path)."""
    return refused(LOGIN) if role == w.ANONYMOUS else allowed()


def owner_only(role, method) -> Expect:
    """Learner A's object: anyone else is told it does not exist."""
    if role == w.ANONYMOUS:
        return refused(LOGIN)
    return allowed() if role == w.LEARNER else refused(MISSING)


def owner_only_post(role, method) -> Expect:
    """A POST-only action on learner A's object: a GET is refused by method
    before any lookup, so it tells no one whether the id exists."""
    if method == "GET" and role != w.ANONYMOUS:
        return refused(METHOD)
    return owner_only(role, method)


def owner_only_get(role, method) -> Expect:
    """A GET-only address on learner A's object (an old address that now
    redirects): a POST is refused by method before any lookup."""
    if method == "POST" and role != w.ANONYMOUS:
        return refused(METHOD)
    return owner_only(role, method)


def role_holder(role, method) -> Expect:
    """The organisation pages' index: learners A and B each hold roles in
    their own organisation (and are sent on to it); anyone signed in without
    one is told they hold none."""
    if role == w.ANONYMOUS:
        return refused(LOGIN)
    if role in (w.LEARNER, w.OTHER_LEARNER):
        return allowed(may_change=False)
    return refused(FORBIDDEN)


def public_to_read(role, method) -> Expect:
    """A page anyone may read whose form (a purchase) needs signing in."""
    if method == "POST" and role == w.ANONYMOUS:
        return refused(LOGIN)
    return allowed()


def made_up_key(role, method) -> Expect:
    """An allauth link with a key nobody was sent: it shows it is invalid."""
    return Expect(frozenset({OK, MISSING}), False)


def owner_or(perm: str) -> Rule:
    def rule(role, method):
        if role == w.ANONYMOUS:
            return refused(LOGIN)
        if role == w.LEARNER or (role in w.STAFF_GROUPS and holds(role, perm)):
            return allowed(may_change=False)  # a download changes nothing
        return refused(MISSING)

    return rule


def permission(perm: str) -> Rule:
    def rule(role, method):
        if role == w.ANONYMOUS:
            return refused(LOGIN)
        return allowed() if holds(role, perm) else refused(FORBIDDEN)

    return rule


def any_permission(*perms: str) -> Rule:
    """A page for holders of any one of `perms` (the reports' index)."""

    def rule(role, method):
        if role == w.ANONYMOUS:
            return refused(LOGIN)
        if any(holds(role, p) for p in perms):
            return allowed(may_change=False)
        return refused(FORBIDDEN)

    return rule


def back_office(role, method) -> Expect:
    """The staff home: anyone with a back-office role (GET only: a POST is 405
    for them, and changes nothing)."""
    if role == w.ANONYMOUS:
        return refused(LOGIN)
    if role in w.STAFF_GROUPS or role == w.SUPERUSER:
        return allowed(may_change=False)
    return refused(FORBIDDEN)


def link_holder(role, method) -> Expect:
    """Token links (unsubscribe, manager support): whoever holds the link."""
    return allowed()


def no_pending_login(role, method) -> Expect:
    """A step of signing in: without a sign-in under way, back to log in."""
    return Expect(frozenset({OK, LOGIN}), False)


def sso_error_page(role, method) -> Expect:
    """allauth's "sign-in with the provider failed" page: 401 (GET only)."""
    return Expect(frozenset({"HTTP 401", METHOD}), False)


def unknown_provider(role, method) -> Expect:
    """Single sign-on for a provider that is not configured: nobody finds it."""
    return refused(MISSING)


def account_holder(role, method) -> Expect:
    """allauth's own pages for the signed-in person (404: nothing of that kind)."""
    if role == w.ANONYMOUS:
        return refused(LOGIN)
    return Expect(frozenset({*ALLOWED, MISSING}), True)


def admin_site(role, method) -> Expect:
    if role in w.STAFF_GROUPS:
        return allowed()
    return refused(LOGIN)


def admin_logout(role, method) -> Expect:
    """Someone not in the back office is sent to its index (and so to log in)."""
    if role in w.STAFF_GROUPS:
        return allowed()
    return Expect(frozenset({OK}), False)


def admin_login(role, method) -> Expect:
    return refused(LOGIN) if role == w.ANONYMOUS else allowed(may_change=False)


def admin_missing(role, method) -> Expect:
    return refused(MISSING) if role in w.STAFF_GROUPS else refused(LOGIN)


def admin_permission(perm: str) -> Rule:
    """A back-office page of our own that asks for one permission."""

    def rule(role, method):
        if role not in w.STAFF_GROUPS:
            return refused(LOGIN)
        return allowed() if holds(role, perm) else refused(FORBIDDEN)

    return rule


def admin_autocomplete(role, method) -> Expect:
    """The organisation autocomplete; Django's view refuses a POST by method
    before it asks who you are (the first role without the permission to see
    organisations, the analytics viewer, meets this)."""
    expect = admin_model("accounts.organisation", "view")(role, method)
    if method == "POST" and FORBIDDEN in expect.outcomes:
        return refused(FORBIDDEN, METHOD)
    return expect


def superuser_only(role, method) -> Expect:
    return refused(FORBIDDEN) if role in w.STAFF_GROUPS else refused(LOGIN)


# What no one may do through the back office, whatever their permissions.
ADMIN_NEVER = {
    "bookings.booking": {"delete"},
    "bookings.transaction": {"change", "delete"},  # the ledger is append-only
    "bookings.stafflog": {"add", "change", "delete"},
    "bookings.mailrecord": {"add"},
    "funding.fundingrequest": {"add", "delete"},
    "funding.application": {"add", "delete"},
    "funding.fundingmail": {"add"},
    "consent.consentrecord": {"change", "delete"},  # consent is a record
    "privacy.datasubjectrequest": {"delete"},
    "privacy.auditevent": {"add", "change", "delete"},
    # disclosures are recorded, never edited or deleted (withholding is an action)
    "privacy.disclosure": {"change", "delete"},
    "privacy.transmission": {"add", "change", "delete"},
    "privacy.transmissionmail": {"add", "delete"},
    "privacy.retentionrun": {"add", "change", "delete"},
    "marketing.delivery": {"add", "change", "delete"},
    # invoices are raised by the service and never edited: a credit note corrects
    "organisations.invoice": {"add", "change", "delete"},
    # references, statements and their lines change only through the services
    "payments.paymentreference": {"add", "change", "delete"},
    "payments.bankstatement": {"add", "change", "delete"},
    "payments.statementline": {"add", "change", "delete"},
    # card payments and refunds change only through Stripe's answers
    "payments.cardpayment": {"add", "change", "delete"},
    "payments.cardrefund": {"add", "change", "delete"},
    # purchases are made by buyers; staff only cancel one (with a credit)
    "products.purchase": {"add", "change", "delete"},
}


def may(role: str, model_label: str, action: str) -> bool:
    if action in ADMIN_NEVER.get(model_label, ()):
        return False
    granted = role_perms(role).get(model_label, ())
    if action == "view":
        return "view" in granted or "change" in granted
    return action in granted


def admin_model(model_label: str, page: str) -> Rule:
    def rule(role, method):
        if role not in w.STAFF_GROUPS:
            return refused(LOGIN)
        if page == "changelist":
            # POST runs "delete selected" on the world's object
            ok = may(role, model_label, "view")
            return (
                Expect(ALLOWED, may(role, model_label, "delete"))
                if ok
                else refused(FORBIDDEN)
            )
        if page in ("history", "change") and method == "GET":
            action = "view"
        elif page in ("import", "process_import"):
            # django-import-export asks for the plain "add" permission
            action = "add"
            granted = role_perms(role).get(model_label, ())
            if "add" in granted:
                return allowed()
            # process_import is POST-only and says so before asking who you are
            return refused(FORBIDDEN, METHOD) if method == "GET" else refused(FORBIDDEN)
        elif page == "history":
            action = "view"
        else:
            action = page
        return allowed() if may(role, model_label, action) else refused(FORBIDDEN)

    return rule


def admin_app(app_label: str) -> Rule:
    def rule(role, method):
        if role not in w.STAFF_GROUPS:
            return refused(LOGIN)
        visible = any(
            model._meta.app_label == app_label
            and any(
                may(role, model._meta.label_lower, a)
                for a in ("view", "add", "change", "delete")
            )
            for model in admin.site._registry
        )
        return allowed() if visible else refused(MISSING)

    return rule


RULES: dict[str, Rule] = {
    # public pages
    "healthz": public,
    "readyz": public,
    "courses:home": public,
    "courses:list": public,
    "courses:detail": public,
    "consent:privacy": public,
    "consent:privacy_version": public,
    "consent:cookies": public,
    "consent:cookies_version": public,
    "consent:contact": public,
    "bookings:certificate_verify": public,
    "products:list": public,
    "products:detail": public_to_read,
    # token links
    "marketing:unsubscribe": link_holder,
    # measured links and the opening image: a random code, no account
    "marketing:opened": public,
    "marketing:link": public,
    # a survey's unguessable link: anyone signed in who has it may answer
    "surveys:answer": signed_in,
    "funding:support": link_holder,
    "privacy:export": owner_only,  # the link also needs the owner signed in
    # data sent to another organisation: the recipient holds the link
    "privacy:collect": link_holder,
    # the signed-in person's own pages
    "accounts:profile": signed_in,
    "accounts:edit": signed_in,
    "accounts:complete": signed_in,
    "accounts:equality": signed_in,
    "accounts:close": signed_in,
    "accounts:closed": public,
    "privacy:correction_new": signed_in,
    "privacy:access_new": signed_in,
    "consent:preferences": signed_in,
    "privacy:my_data": signed_in,
    "privacy:download": signed_in,
    "privacy:transfer": signed_in,
    "bookings:book": signed_in,
    "bookings:list": signed_in,
    "bookings:training_record": signed_in,
    "bookings:training_record_csv": signed_in,
    "bookings:transactions": signed_in,
    "funding:list": signed_in,
    "funding:new": signed_in,
    "funding:application_new": signed_in,
    "funding:applications": signed_in,
    "funding:apprenticeship_new": signed_in,
    # learner A's objects
    "bookings:cancel": owner_only,
    "bookings:detail": owner_only,
    "bookings:calendar": owner_only,
    "bookings:accept": owner_only_post,
    "bookings:evaluate": owner_only,
    "bookings:certificate": owner_only,
    "bookings:evidence": owner_only,
    "funding:detail": owner_only,
    "products:purchase": owner_only,
    # Reports (GET only: a POST is 405 for those allowed, and changes nothing).
    "reports:index": any_permission(
        "reports.view_booking_reports",
        "reports.view_funding_report",
        "reports.view_workforce_report",
    ),
    "reports:bookings": permission("reports.view_booking_reports"),
    "reports:fill": permission("reports.view_booking_reports"),
    "reports:funding": permission("reports.view_funding_report"),
    "reports:workforce": permission("reports.view_workforce_report"),
    # organisation pages: learner A holds every role in the organisation
    "organisations:index": role_holder,
    "organisations:detail": owner_only,
    "organisations:book": owner_only,
    "organisations:swap": owner_only,
    "organisations:cancel": owner_only,
    "organisations:approval": owner_only,
    "organisations:membership": owner_only_post,
    "organisations:funding_support": owner_only,
    "funding:edit": owner_only_get,
    "funding:task_course": owner_only,
    "funding:task_reason": owner_only,
    "funding:documents": owner_only,
    "funding:check": owner_only,
    "funding:withdraw": owner_only,
    "funding:delete": owner_only,
    "funding:submit": owner_only_post,
    "funding:document_add": owner_only,
    "funding:manager": owner_only,
    "funding:manager_resend": owner_only_post,
    "funding:progress": owner_only,
    "funding:application_detail": owner_only,
    "funding:application_edit": owner_only,
    "funding:application_submit": owner_only_post,
    "funding:apprenticeship_detail": owner_only,
    "funding:apprenticeship_edit": owner_only,
    "funding:document": owner_or("funding.view_fundingrequest"),
    "funding:invoice": owner_or("funding.view_fundingrequest"),
    "funding:officer_document": owner_or("funding.view_fundingrequest"),
    "funding:officer_invoice": owner_or("funding.view_fundingrequest"),
    # staff pages (under /staff/)
    "bookings:staff_home": back_office,
    "bookings:register": permission("bookings.change_booking"),
    "bookings:attendees_csv": permission("bookings.change_booking"),
    "bookings:sign_in_sheet": permission("bookings.change_booking"),
    "bookings:provider_csv": permission("bookings.change_booking"),
    "bookings:session_cancel": permission("bookings.change_booking"),
    "bookings:waive_minimum": permission("bookings.change_booking"),
    "bookings:session_email": permission("bookings.change_booking"),
    "bookings:move": permission("bookings.change_booking"),
    "bookings:evaluations": permission("bookings.view_evaluation"),
    "funding:officer_queue": permission("funding.change_fundingrequest"),
    "funding:officer_review": permission("funding.change_fundingrequest"),
    "funding:officer_invoice_add": permission("funding.change_fundingrequest"),
    "funding:officer_payment_add": permission("funding.change_fundingrequest"),
    "funding:officer_panel": permission("funding.change_fundingrequest"),
    "funding:officer_applications": permission("funding.change_application"),
    "funding:officer_application": permission("funding.change_application"),
    "privacy:processing_record": permission("privacy.view_datasubjectrequest"),
    # the analytics dashboard: totals only, for analytics viewers and the DPO
    "analytics:dashboard": permission("analytics.view_dashboard"),
    # the analytics beacon: no session needed; without a page view's signed
    # token from our own origin it is a 400 and writes nothing
    "analytics:beacon": public,
    # the organisation's account: learner A is its finance contact
    "organisations:account": owner_only,
    "organisations:invoice": owner_only,
    "organisations:invoice_pdf": owner_only,
    "organisations:receipt": owner_only,
    "organisations:receipt_pdf": owner_only,
    # receipts: learner A's own payment
    "payments:receipt": owner_only,
    # card payments: learner A's own, or A's organisation's as finance contact
    "payments:pay_card": signed_in,
    "payments:card_payment": owner_only,
    "payments:card_go": owner_only,
    "payments:card_cancelled": owner_only,
    "organisations:pay_by_card": owner_only_post,
    # Stripe's webhook: no session; the signature is checked (400 without it)
    "payments:stripe_webhook": public,
    "payments:receipt_pdf": owner_only,
    # allauth
    "account_login": public,
    "account_signup": public,
    "account_logout": public,
    "account_inactive": public,
    "account_email_verification_sent": public,
    "account_reset_password": public,
    "account_reset_password_done": public,
    "account_reset_password_from_key": made_up_key,
    "account_reset_password_from_key_done": public,
    "account_confirm_email": made_up_key,
    "account_confirm_login_code": no_pending_login,
    "mfa_authenticate": no_pending_login,
    "account_reauthenticate": account_holder,
    "account_email": account_holder,
    "account_change_password": account_holder,
    "account_set_password": account_holder,
    "mfa_index": account_holder,
    "mfa_reauthenticate": account_holder,
    "mfa_activate_totp": account_holder,
    "mfa_deactivate_totp": account_holder,
    "mfa_view_recovery_codes": account_holder,
    "mfa_generate_recovery_codes": account_holder,
    "mfa_download_recovery_codes": account_holder,
    # allauth's single sign-on (socialaccount); the old /accounts/social/
    # addresses redirect to the /accounts/3rdparty/ ones
    "socialaccount_login_cancelled": public,
    "socialaccount_login_error": sso_error_page,
    "socialaccount_signup": no_pending_login,
    "socialaccount_connections": account_holder,
    "?accounts/social/login/cancelled/": public,
    "?accounts/social/login/error/": public,
    "?accounts/social/signup/": public,
    "?accounts/social/connections/": public,
    "openid_connect_login": unknown_provider,
    "openid_connect_callback": unknown_provider,
    # the back office's own pages
    "admin:index": admin_site,
    "admin:login": admin_login,
    "admin:logout": admin_logout,
    "admin:password_change": admin_site,
    "admin:password_change_done": admin_site,
    "admin:jsi18n": admin_site,
    "admin:view_on_site": admin_site,
    "admin:autocomplete": admin_autocomplete,
    "admin:auth_user_password_change": superuser_only,
    "admin:?admin/(?P<url>.*)$": admin_missing,
    "admin:organisations_invoice_raise": admin_permission(
        "organisations.raise_invoices"
    ),
    "admin:organisations_invoice_payment": admin_permission(
        "organisations.record_payment"
    ),
    "admin:organisations_invoice_pdf": admin_permission("organisations.view_invoice"),
    "admin:payments_bankstatement_upload": admin_permission(
        "payments.upload_statement"
    ),
    "admin:payments_statementline_resolve": admin_permission(
        "payments.resolve_statement_line"
    ),
    "admin:marketing_campaign_results": admin_permission("marketing.view_campaign"),
}

ADMIN_PAGE = re.compile(
    r"^admin:(?P<app>[a-z]+)_(?P<model>[a-z]+)_"
    r"(?P<page>changelist|add|change|delete|history|import|process_import)$"
)
ADMIN_REDIRECT = re.compile(r"^admin:\?admin/(?P<app>\w+)/(?P<model>\w+)/<path")


def rule_for(pattern: Pattern) -> Rule | None:
    if pattern.key in RULES:
        return RULES[pattern.key]
    if match := ADMIN_PAGE.match(pattern.key):
        label = f"{match['app']}.{match['model']}"
        if apps.get_model(label) in admin.site._registry:
            return admin_model(label, match["page"])
    if ADMIN_REDIRECT.match(pattern.key):
        return admin_site  # <id>/ redirects staff to <id>/change/
    if pattern.key == "admin:app_list":
        return admin_app  # filled per app label below
    return None


# --- paths from the world -----------------------------------------------------------


def t(name: str, attr: str = "pk") -> Callable:
    return lambda world: getattr(world.things[name], attr)


KWARGS: dict[str, dict[str, Callable]] = {
    "courses:detail": {"slug": t("course", "slug")},
    "consent:privacy_version": {"version_id": t("privacy_version")},
    "consent:cookies_version": {"version_id": t("cookies_version")},
    "bookings:certificate_verify": {"code": t("attended", "certificate_code")},
    "marketing:unsubscribe": {"token": lambda world: world.things["unsubscribe_token"]},
    "marketing:opened": {"code": lambda world: "matrix-measuring-code"},
    "marketing:link": {
        "code": lambda world: "matrix-measuring-code",
        "n": lambda world: 0,
    },
    "surveys:answer": {"key": lambda world: world.objects["surveys.survey"].key},
    "funding:support": {"token": lambda world: world.things["support_token"]},
    "privacy:export": {"token": t("export", "token")},
    "privacy:collect": {"token": lambda world: world.things["transfer_token"]},
    "bookings:book": {"session_id": t("bookable_session")},
    "bookings:cancel": {"booking_id": t("booking")},
    "bookings:detail": {"booking_id": t("booking")},
    "bookings:calendar": {"booking_id": t("booking")},
    "bookings:accept": {"booking_id": t("booking")},
    "bookings:evaluate": {"booking_id": t("attended")},
    "bookings:certificate": {"booking_id": t("attended")},
    "bookings:evidence": {"pk": t("prior")},
    "funding:detail": {"pk": t("draft_request")},
    "organisations:detail": {"org_id": t("org")},
    "organisations:book": {"org_id": t("org"), "session_id": t("bookable_session")},
    "organisations:swap": {"org_id": t("org"), "booking_id": t("org_booking")},
    "organisations:cancel": {"org_id": t("org"), "booking_id": t("org_booking")},
    "organisations:approval": {"org_id": t("org"), "booking_id": t("org_approval")},
    "organisations:funding_support": {
        "org_id": t("org"),
        "request_id": t("org_funding"),
    },
    "organisations:membership": {
        "org_id": t("org"),
        "membership_id": t("org_request"),
    },
    "funding:edit": {"pk": t("draft_request")},
    "funding:task_course": {"pk": t("draft_request")},
    "funding:task_reason": {"pk": t("draft_request")},
    "funding:documents": {"pk": t("draft_request")},
    "funding:check": {"pk": t("draft_request")},
    "funding:withdraw": {"pk": t("submitted_request")},
    "funding:delete": {"pk": t("draft_request")},
    "funding:submit": {"pk": t("draft_request")},
    "funding:document_add": {"pk": t("draft_request")},
    "funding:manager": {"pk": t("submitted_request")},
    "funding:manager_resend": {"pk": t("submitted_request")},
    "funding:progress": {"pk": t("submitted_request")},
    "funding:document": {"pk": t("document")},
    "funding:invoice": {"pk": t("invoice")},
    "funding:officer_document": {"pk": t("document")},
    "funding:officer_invoice": {"pk": t("invoice")},
    "funding:application_detail": {"pk": t("application")},
    "funding:application_edit": {"pk": t("application")},
    "funding:application_submit": {"pk": t("application")},
    "funding:application_new": {
        "type_slug": lambda world: world.things["application"].type.slug
    },
    "funding:apprenticeship_detail": {"pk": t("application")},
    "funding:apprenticeship_edit": {"pk": t("application")},
    "bookings:register": {"session_id": t("session")},
    "bookings:attendees_csv": {"session_id": t("session")},
    "bookings:sign_in_sheet": {"session_id": t("session")},
    "bookings:provider_csv": {"session_id": t("session")},
    "bookings:session_cancel": {"session_id": t("session")},
    "bookings:waive_minimum": {"session_id": t("session")},
    "bookings:session_email": {"session_id": t("session")},
    "bookings:evaluations": {"session_id": t("session")},
    "bookings:move": {"booking_id": t("booking")},
    "funding:officer_review": {"pk": t("submitted_request")},
    "funding:officer_invoice_add": {"pk": t("submitted_request")},
    "funding:officer_payment_add": {"pk": t("submitted_request")},
    "funding:officer_panel": {"round_id": t("round")},
    "funding:officer_application": {"pk": t("submitted_application")},
    "organisations:account": {"org_id": t("org")},
    "organisations:invoice": {
        "org_id": t("org"),
        "number": t("organisation_invoice", "number"),
    },
    "organisations:invoice_pdf": {
        "org_id": t("org"),
        "number": t("organisation_invoice", "number"),
    },
    "admin:organisations_invoice_pdf": {"pk": t("organisation_invoice")},
    "organisations:receipt": {
        "org_id": t("org"),
        "transaction_id": t("org_payment"),
    },
    "organisations:receipt_pdf": {
        "org_id": t("org"),
        "transaction_id": t("org_payment"),
    },
    "products:detail": {"slug": t("product", "slug")},
    "products:purchase": {"purchase_id": t("purchase")},
    "payments:receipt": {"transaction_id": t("payment")},
    "payments:card_payment": {"pk": t("card_payment")},
    "payments:card_go": {"pk": t("card_payment")},
    "payments:card_cancelled": {"pk": t("card_payment")},
    "organisations:pay_by_card": {"org_id": t("org")},
    "payments:receipt_pdf": {"transaction_id": t("payment")},
    "admin:payments_statementline_resolve": {
        "pk": lambda world: world.objects["payments.statementline"].pk
    },
    # allauth links carrying a key: a made-up one (the page says it is invalid)
    "account_confirm_email": {"key": lambda world: "made-up-key"},
    "account_reset_password_from_key": {
        "uidb36": lambda world: "1z",
        "key": lambda world: "made-up-key",
    },
    "admin:view_on_site": {
        "content_type_id": lambda world: (
            ContentType.objects.get_for_model(world.things["course"]).pk
        ),
        "object_id": t("course"),
    },
    "admin:auth_user_password_change": {"id": t("learner")},
    "openid_connect_login": {"provider_id": lambda world: "no-such-provider"},
    "openid_connect_callback": {"provider_id": lambda world: "no-such-provider"},
    "admin:?admin/(?P<url>.*)$": {"url": lambda world: "no-such-page/"},
}
QUERY = {
    # the autocomplete asks which field it serves; the profile's organisation
    "admin:autocomplete": "?app_label=accounts&model_name=profile"
    "&field_name=organisation&term=Org",
}

POST_DATA = {
    # Enough to act if nothing stops it: confirmations, reasons, decisions.
    "post": "yes",
    "reason": "matrix",
    "details": "matrix",
    "kind": "erasure",
    "decision": "approve",
    "amount": "1",
    "note": "matrix",
    "supported": "yes",
    "statement": "matrix",
    "rating": "5",
    "subject": "matrix",
    "body": "matrix",
}


def paths_for(pattern: Pattern, world) -> list[tuple[str, Rule, dict]] | str:
    """[(path, rule, post data)], or why the world cannot fill the pattern."""
    rule = rule_for(pattern)
    if rule is None:
        return (
            f"{pattern.key} ({pattern.route}) has no rule: add one to RULES in "
            "tests/security/test_permission_matrix.py"
        )
    if pattern.key == "admin:app_list":
        labels = re.search(r">(?P<l>[a-z_|]+)\)", pattern.route)["l"].split("|")
        return [
            (reverse("admin:app_list", kwargs={"app_label": a}), admin_app(a), {})
            for a in labels
        ]
    data = dict(POST_DATA)
    kwargs = {}
    admin_match = ADMIN_PAGE.match(pattern.key) or ADMIN_REDIRECT.match(pattern.key)
    if pattern.kwargs and admin_match and pattern.key not in KWARGS:
        label = f"{admin_match['app']}.{admin_match['model']}"
        obj = world.objects.get(label)
        if obj is None:
            return (
                f"{pattern.key} ({pattern.route}) needs an object: add a {label} "
                "to world.objects in tests/security/world.py"
            )
        kwargs = {name: str(obj.pk) for name in pattern.kwargs}
    elif pattern.kwargs:
        fillers = KWARGS.get(pattern.key, {})
        missing = [k for k in pattern.kwargs if k not in fillers]
        if missing:
            return (
                f"{pattern.key} ({pattern.route}) needs {missing} from the world: "
                "add them to KWARGS in tests/security/test_permission_matrix.py"
            )
        kwargs = {name: fillers[name](world) for name in pattern.kwargs}
    if match := ADMIN_PAGE.match(pattern.key):
        label = f"{match['app']}.{match['model']}"
        if match["page"] == "changelist" and label in world.objects:
            data |= {
                "action": "delete_selected",
                "_selected_action": [str(world.objects[label].pk)],
                "index": "0",
            }
    if pattern.named:
        path = reverse(pattern.key, kwargs=kwargs)
    elif "(?P<url>" in pattern.route:
        path = "/admin/" + kwargs["url"]
    else:
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: kwargs[m[1]], pattern.route)
    return [(path + QUERY.get(pattern.key, ""), rule, data)]


# --- running a cell -----------------------------------------------------------------


def _fingerprint_sql() -> str:
    tables = sorted(
        t for t in connection.introspection.table_names() if t != "django_session"
    )
    # Table names come from the database's own catalogue, not from input.
    return " UNION ALL ".join(
        f"SELECT '{t}', count(*), md5(coalesce(string_agg(x::text, '|' "  # noqa: S608
        f"ORDER BY x::text), '')) FROM \"{t}\" x"
        for t in tables
    )


def fingerprint(sql: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {row[0]: row[1:] for row in cursor.fetchall()}


def run_cell(world, role, path, method, rule, data, sql) -> str | None:
    """One request as `role`, undone afterwards; the problem, or None.

    Every cell starts from the world as built (the one before it was rolled
    back to its savepoint), so a refused POST's rows are compared with the
    world's fingerprint, taken once (`world.fingerprint`), not again before
    each request. Were a cell's rollback ever to leave a change behind, the
    next refused POST would report it."""
    expect = rule(role, method)
    client = world.clients[role]
    cookies = copy.deepcopy(client.cookies)
    savepoint = transaction.savepoint()
    try:
        before = (
            world.fingerprint if method == "POST" and not expect.may_change else None
        )
        response = client.get(path) if method == "GET" else client.post(path, data)
        got = outcome(response)
        problem = None
        if got not in expect.outcomes:
            problem = f"got {got}, expected {' or '.join(sorted(expect.outcomes))}"
        elif before is not None:
            after = fingerprint(sql)
            changed = sorted(k for k in after if after[k] != before.get(k))
            if changed:
                problem = f"refused but changed rows in {changed}"
    finally:
        transaction.savepoint_rollback(savepoint)
        client.cookies = cookies
    if problem:
        return f"{role:>22} {method:<4} {path}: {problem}"
    return None


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield w.build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def fingerprint_sql(world):
    sql = _fingerprint_sql()
    world.fingerprint = fingerprint(sql)  # every cell starts from this
    return sql


def test_every_url_has_a_rule_and_a_path_from_the_world(world):
    problems = [
        p for p in (paths_for(x, world) for x in PATTERNS) if isinstance(p, str)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", w.MATRIX_ROLES)
def test_each_role_gets_what_the_rules_say_on_every_url(world, fingerprint_sql, role):
    problems = []
    cells = 0
    for pattern in PATTERNS:
        if role == w.SUPERUSER and pattern.is_back_office:
            continue  # test_superuser_without_mfa_is_refused_staff_pages
        paths = paths_for(pattern, world)
        if isinstance(paths, str):
            problems.append(paths)
            continue
        for path, rule, data in paths:
            for method in ("GET", "POST"):
                cells += 1
                found = run_cell(world, role, path, method, rule, data, fingerprint_sql)
                if found:
                    problems.append(found)
    assert cells > 100
    assert not problems, f"{len(problems)} wrong cells:\n" + "\n".join(problems)


BACK_OFFICE = [p for p in PATTERNS if p.is_back_office]


def refused_to_mfa_setup(role, method) -> Expect:
    return refused(MFA)


def refused_to_mfa_setup_or_log_in(role, method) -> Expect:
    """A superuser without the staff flag is no member of the back office at
    all, so /admin/ may send them to log in instead; either way nothing opens."""
    return refused(MFA, LOGIN)


def refused_or_the_door(role, method) -> Expect:
    """/admin/login/ and /admin/logout/ for someone without the staff flag: the
    sign-in form, or a redirect to the index that refuses them; no data."""
    return Expect(frozenset({MFA, LOGIN, OK}), False)


@pytest.mark.parametrize("pattern", BACK_OFFICE, ids=lambda p: p.key)
@pytest.mark.parametrize("role", [w.SUPERUSER, w.SUPERUSER_NO_STAFF_FLAG])
def test_superuser_without_mfa_is_refused_staff_pages(
    world, fingerprint_sql, pattern, role
):
    paths = paths_for(pattern, world)
    assert not isinstance(paths, str), paths
    rule = refused_to_mfa_setup
    if role == w.SUPERUSER_NO_STAFF_FLAG and pattern.route.startswith("admin/"):
        rule = refused_to_mfa_setup_or_log_in
        if pattern.key in ("admin:login", "admin:logout"):
            rule = refused_or_the_door
    problems = []
    for path, _rule, data in paths:
        for method in ("GET", "POST"):
            found = run_cell(world, role, path, method, rule, data, fingerprint_sql)
            if found:
                problems.append(found)
    assert not problems, "\n".join(problems)
