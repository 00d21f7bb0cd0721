"""Every page, swept with axe-core for WCAG 2.2 AA: learners', managers',
staff's (/staff/) and Django admin's main pages, in their main states and
their error states.

axe-core comes from node_modules (package.json pins it; no CDN). It is run in
each page through Playwright's evaluation, which the page's
Content-Security-Policy does not govern (no script tag is added to the page),
so the conftest's CSP watch stays meaningful. axe's "preload" is off: it
re-reads the style sheets by writing them into <style> elements (and an
`@import` such as admin's forms.css has is written inline), which the policy
rightly refuses; only the experimental css-orientation-lock rule needs it.

PAGES is the sweep, one line a visit: the URL name the visit covers, the role
it is made as, the path (from the permission matrix's world unless given) and,
for a state reached by acting on the page, what to do first. Every URL pattern
outside /admin/ is either visited or in EXCLUDED with the reason, so a new page
cannot escape the sweep (`test_every_page_is_swept_or_excluded`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from accounts import roles
from bookings.models import Booking
from tests.bookings.factories import BookingFactory
from tests.conftest import give_totp
from tests.courses.factories import CourseFactory, SessionFactory
from tests.e2e.test_funding_e2e import FACTORY_PASSWORD
from tests.e2e.test_funding_e2e import sign_in as signed_in_through_the_form
from tests.security import world as w
from tests.security.test_permission_matrix import PATTERNS, paths_for

AXE_JS = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    preload: false,
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""

# An error summary (GOV.UK) or admin's error note: an "errors" state shows one.
ERRORS = ".govuk-error-summary, .errornote"

# Roles of the sweep beyond the matrix's (tests/security/world.py).
SUPERUSER = "superuser_with_mfa"  # Django admin's pages, every model
NEW_STAFF = "staff_without_mfa"  # setting up two-factor authentication
FRESH_STAFF = "staff_just_signed_in"  # two-factor pages ask for a fresh sign-in
SIGNING_IN = "signing_in"  # anonymous, part-way through signing in (own context)


# --- acting on a page before it is swept -----------------------------------------


def press(name: str) -> Callable:
    """Click the button (or input) called `name`: an empty form's errors."""

    def act(page, world):
        with page.expect_navigation():
            page.locator("main").get_by_role("button", name=name, exact=True).click()

    return act


def fill_and_press(fields: dict[str, str], name: str) -> Callable:
    def act(page, world):
        for label, value in fields.items():
            page.get_by_label(label, exact=True).fill(value)
        press(name)(page, world)

    return act


def search_for(words: str) -> Callable:
    """Ask the page for its members search, as a link or a bookmark would."""

    def act(page, world):
        page.goto(f"{page.url.split('?')[0]}?{urlencode({'member': words})}")

    return act


def find_workplace(words: str) -> Callable:
    """Send the sign-up form with a workplace search that finds several, as
    when there are too many workplaces for a drop-down (the limit lowered
    while the page is asked for)."""

    def act(page, world):
        from accounts import forms

        listed = forms.WORKPLACES_LISTED
        forms.WORKPLACES_LISTED = 0
        try:
            page.reload()
            page.get_by_label("Find your workplace (optional)", exact=True).fill(words)
            press("Create account")(page, world)
        finally:
            forms.WORKPLACES_LISTED = listed
        expect(
            page.locator('input[type="radio"][name="organisation"]')
        ).not_to_have_count(0)

    return act


def password_step(page, world):
    """Sign in as the booking administrator up to the authenticator code."""
    page.get_by_label("Email").fill(world.users[w.BOOKING_ADMIN].email)
    page.get_by_label("Password", exact=True).fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator('input[name="code"]')).to_be_visible()


def wrong_code(page, world):
    password_step(page, world)
    page.locator('input[name="code"]').fill("000000")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()


def admin_action(action: str, pk: Callable) -> Callable:
    """Run a changelist action on one row: its intermediate form page."""

    def act(page, world):
        page.locator(f'input[name="_selected_action"][value="{pk(world)}"]').check()
        page.locator('select[name="action"]').select_option(action)
        with page.expect_navigation():
            page.get_by_role("button", name="Go").click()
        expect(page.locator('input[name="confirm"]')).to_have_count(1)

    return act


# --- the sweep ------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    key: str  # the URL name (as the permission matrix spells it)
    role: str
    path: str | Callable | None = None  # None: the matrix's path for `key`
    then: Callable | None = None  # what to do on the page before sweeping
    state: str = ""
    status: int = 200  # what the page finally answers
    moves: bool = False  # the address sends the browser on to the page swept

    def label(self) -> str:
        return " ".join(filter(None, (self.key, self.state)))


def t(name: str, attr: str = "pk") -> Callable:
    return lambda world: getattr(world.things[name], attr)


def url(name: str, **kwargs: Callable) -> Callable:
    return lambda world: reverse(name, kwargs={k: f(world) for k, f in kwargs.items()})


A, L = w.ANONYMOUS, w.LEARNER
BOOKING, FUNDING, COURSES = w.BOOKING_ADMIN, w.FUNDING_OFFICER, w.COURSE_ADMIN
DPO, ANALYTICS = w.DPO, w.ANALYTICS_VIEWER

LEARNER_PAGES = [
    Visit("courses:home", A),
    Visit("courses:home", L, state="signed in"),
    Visit("courses:list", A),
    Visit("courses:list", A, "/courses/?from=2026-13-45&topic=nope", state="errors"),
    Visit("courses:detail", A),
    Visit("courses:detail", L, state="booked and waiting"),
    Visit(
        "courses:detail",
        L,
        lambda world: world.things["paid_course"].get_absolute_url(),
        state="paid",
    ),
    Visit("bookings:book", L, url("bookings:book", session_id=t("paid_session"))),
    Visit("bookings:list", L),
    Visit("bookings:detail", L),
    Visit("bookings:detail", L, url("bookings:detail", booking_id=t("attended"))),
    Visit("bookings:cancel", L),
    Visit("bookings:evaluate", L),
    Visit("bookings:evaluate", L, then=press("Send feedback"), state="errors"),
    Visit("bookings:training_record", L),
    Visit(
        "bookings:training_record", L, then=press("Add to my record"), state="errors"
    ),
    Visit("bookings:certificate", L),
    Visit("bookings:certificate_verify", A),
    Visit("bookings:transactions", L),
    Visit("payments:receipt", L),
    Visit("payments:card_payment", L),
    Visit("payments:card_cancelled", L),
    Visit("products:list", A),
    Visit("products:detail", L),
    Visit("products:purchase", L),
    Visit("accounts:profile", L),
    Visit("accounts:edit", L),
    Visit(
        "accounts:edit",
        L,
        then=fill_and_press({"First name": ""}, "Save your details"),
        state="errors",
    ),
    Visit("accounts:complete", L),
    Visit("accounts:complete", L, then=press("Save and continue"), state="errors"),
    Visit("accounts:equality", L),
    Visit("accounts:close", L),
    Visit("accounts:closed", A),
    Visit("consent:privacy", A),
    Visit("consent:privacy_version", A),
    Visit("consent:cookies", A),
    Visit("consent:cookies_version", A),
    Visit("consent:preferences", L),
    Visit("consent:contact", A),
    Visit("privacy:my_data", L),
    Visit("privacy:correction_new", L),
    Visit("privacy:correction_new", L, then=press("Send request"), state="errors"),
    Visit("privacy:access_new", L),
    Visit("privacy:transfer", L),
    Visit("privacy:transfer", L, then=press("Ask us to send it"), state="errors"),
    Visit("privacy:collect", A),
    Visit("marketing:unsubscribe", A),
    Visit("surveys:answer", L),
    Visit("funding:list", L),
    Visit("funding:new", L),
    Visit("funding:new", L, then=press("Save and continue"), state="errors"),
    Visit("funding:detail", L),
    Visit("funding:detail", L, url("funding:detail", pk=t("submitted_request"))),
    Visit("funding:edit", L, moves=True),
    Visit("funding:task_course", L),
    Visit("funding:task_reason", L),
    Visit("funding:documents", L),
    Visit("funding:check", L),
    Visit("funding:withdraw", L),
    Visit("funding:delete", L),
    Visit("funding:applications", L),
    Visit("funding:apprenticeship_new", L),
    Visit("funding:apprenticeship_edit", L),
    Visit("funding:document_add", L),
    Visit("funding:document_add", L, then=press("Upload"), state="errors"),
    # "Your manager" in a draft (a request already decided cannot change it).
    Visit("funding:manager", L, url("funding:manager", pk=t("draft_request"))),
    Visit(
        "funding:manager",
        L,
        url("funding:manager", pk=t("draft_request")),
        then=fill_and_press(
            {"Your manager's name": "", "Your manager's work email": ""},
            "Save and continue",
        ),
        state="errors",
    ),
    Visit("funding:progress", L),
    Visit("funding:application_new", L),
    Visit(
        "funding:application_new", L, then=press("Save and continue"), state="errors"
    ),
    Visit("funding:application_detail", L),
    Visit("funding:application_edit", L),
    Visit("organisations:detail", L),
    # A members search too long for its field (typed, the field stops at 100).
    Visit("organisations:detail", L, then=search_for("x" * 101), state="errors"),
    Visit("organisations:book", L),
    Visit("organisations:swap", L),
    Visit("organisations:cancel", L),
    Visit("organisations:approval", L),
    Visit("organisations:funding_support", L),
    Visit("organisations:account", L),
    Visit("organisations:invoice", L),
    Visit("organisations:receipt", L),
    # the manager's link from the funding request mail
    Visit("funding:support", A),
    Visit("funding:support", A, then=press("Send your answer"), state="errors"),
    # allauth: signing up and in, resetting a password, two-factor
    Visit("account_login", A),
    Visit("account_login", A, then=press("Sign in"), state="errors"),
    Visit("account_signup", A),
    Visit("account_signup", A, then=press("Create account"), state="errors"),
    # Past WORKPLACES_LISTED: a search, and the workplaces it found to choose.
    Visit("account_signup", A, then=find_workplace("Organisation"), state="errors"),
    Visit("account_reset_password", A),
    Visit("account_reset_password", A, then=press("Send the link"), state="errors"),
    Visit("account_reset_password_done", A),
    Visit("account_reset_password_from_key", A, state="a link not valid"),
    Visit("account_reset_password_from_key_done", A),
    Visit("account_confirm_email", A, state="a link not valid"),
    Visit("account_email_verification_sent", A),
    Visit("account_inactive", A),
    Visit("account_logout", L),
    Visit("account_email", L),
    Visit("account_change_password", L),
    Visit(
        "account_change_password", L, then=press("Save new password"), state="errors"
    ),
    Visit("account_reauthenticate", L),
    Visit("mfa_authenticate", SIGNING_IN, "/accounts/login/", then=password_step),
    Visit(
        "mfa_authenticate",
        SIGNING_IN,
        "/accounts/login/",
        then=wrong_code,
        state="errors",
    ),
    Visit("mfa_index", FRESH_STAFF),
    Visit("mfa_activate_totp", NEW_STAFF),
    Visit(
        "mfa_activate_totp",
        NEW_STAFF,
        then=press("Turn on two-factor authentication"),
        state="errors",
    ),
    Visit("mfa_deactivate_totp", FRESH_STAFF),
    Visit("mfa_view_recovery_codes", FRESH_STAFF),
    Visit("mfa_generate_recovery_codes", FRESH_STAFF),
    Visit("mfa_reauthenticate", FRESH_STAFF),
    Visit("socialaccount_connections", L),
    Visit("socialaccount_login_cancelled", A),
]

STAFF_PAGES = [
    Visit("bookings:staff_home", BOOKING),
    Visit("bookings:register", BOOKING),
    Visit("bookings:session_cancel", BOOKING),
    Visit(
        "bookings:session_cancel",
        BOOKING,
        then=press("Cancel the session"),
        state="errors",
    ),
    Visit("bookings:session_email", BOOKING),
    Visit("bookings:session_email", BOOKING, then=press("Send"), state="errors"),
    Visit("bookings:evaluations", BOOKING),
    Visit("funding:officer_queue", FUNDING),
    Visit("funding:officer_review", FUNDING),
    Visit("funding:officer_invoice_add", FUNDING),
    Visit(
        "funding:officer_invoice_add",
        FUNDING,
        then=press("Record invoice"),
        state="errors",
    ),
    Visit("funding:officer_payment_add", FUNDING),
    Visit("funding:officer_panel", FUNDING),
    Visit("funding:officer_applications", FUNDING),
    Visit("funding:officer_application", FUNDING),
    Visit("privacy:processing_record", DPO),
    Visit("analytics:dashboard", ANALYTICS),
    Visit("reports:index", BOOKING),
    Visit("reports:bookings", BOOKING),
    Visit(
        "reports:bookings",
        BOOKING,
        "/staff/reports/bookings/?from=2026-13-45",
        state="errors",
        status=400,
    ),
    Visit("reports:fill", BOOKING),
    Visit("reports:funding", FUNDING),
    Visit("reports:workforce", DPO),
]

ADMIN_PAGES = [
    Visit("admin:login", A, moves=True),
    Visit("admin:index", SUPERUSER),
    Visit("admin:index", COURSES, state="a course administrator"),
    Visit("admin:app_list", SUPERUSER, "/admin/courses/"),
    Visit("admin:courses_course_changelist", SUPERUSER),
    Visit(
        "admin:courses_course_changelist",
        SUPERUSER,
        "/admin/courses/course/?status__exact=published&mode__exact=in_person",
        state="filtered",
    ),
    Visit(
        "admin:courses_session_changelist",
        SUPERUSER,
        "/admin/courses/session/?q=Course",
    ),
    Visit("admin:bookings_booking_changelist", SUPERUSER),
    Visit("admin:accounts_user_changelist", SUPERUSER),
    Visit("admin:courses_course_add", COURSES),
    Visit("admin:courses_course_add", COURSES, then=press("Save"), state="errors"),
    Visit("admin:courses_course_change", COURSES),
    Visit("admin:courses_session_add", COURSES),
    Visit("admin:courses_session_change", COURSES),
    Visit("admin:bookings_booking_change", SUPERUSER),
    Visit("admin:funding_fundingrequest_change", SUPERUSER),
    Visit("admin:courses_course_history", SUPERUSER),
    Visit("admin:courses_course_delete", SUPERUSER),
    Visit("admin:organisations_invoice_raise", SUPERUSER),
    Visit(
        "admin:accounts_user_changelist",
        SUPERUSER,
        then=admin_action("schedule_closure", t("learner")),
        state="an action's form",
    ),
    Visit("admin:password_change", SUPERUSER),
]

PAGES = LEARNER_PAGES + STAFF_PAGES + ADMIN_PAGES

# URL patterns outside /admin/ that are not pages a person reads, with why.
EXCLUDED = {
    "healthz": "a plain-text probe for the load balancer",
    "readyz": "a plain-text probe for the load balancer",
    "analytics:beacon": "takes the browser's beacon, answers no page",
    "marketing:opened": "a 1-pixel image in a mail",
    "marketing:link": "redirects a measured link to its destination",
    "payments:stripe_webhook": "Stripe's webhook, answers JSON",
    "payments:card_go": "redirects to Stripe's payment page",
    "payments:pay_card": "POST only: starts a card payment",
    "payments:receipt_pdf": "a PDF",
    "organisations:invoice_pdf": "a PDF",
    "organisations:receipt_pdf": "a PDF",
    "organisations:pay_by_card": "POST only: starts a card payment",
    "organisations:membership": "POST only: answers a request to join",
    "organisations:index": "redirects to the person's organisation",
    "bookings:calendar": "a calendar (.ics) file",
    "bookings:accept": "POST only: accepts an offered place",
    "bookings:training_record_csv": "a CSV download",
    "bookings:evidence": "the learner's uploaded file",
    "bookings:attendees_csv": "a CSV download",
    "bookings:provider_csv": "a CSV download",
    "bookings:sign_in_sheet": "a PDF",
    "bookings:waive_minimum": "POST only: a button on the register",
    "bookings:move": "POST only: a form on the register",
    "privacy:download": "a ZIP download",
    "privacy:export": "a ZIP download",
    "funding:submit": "POST only: submits the request",
    "funding:apprenticeship_detail": "redirects to funding:application_detail",
    "funding:manager_resend": "POST only: mails the manager again",
    "funding:application_submit": "POST only: submits the application",
    "funding:document": "the learner's uploaded file",
    "funding:invoice": "the uploaded invoice file",
    "funding:officer_document": "the learner's uploaded file",
    "funding:officer_invoice": "the uploaded invoice file",
    "mfa_download_recovery_codes": "a text file of the codes",
    "account_confirm_login_code": "login by code is not enabled: sends to log in",
    "socialaccount_login_error": "allauth's error page; single sign-on's own "
    "browser test (test_sso_e2e) reaches it with a provider",
    "socialaccount_signup": "needs a single sign-on login under way (test_sso_e2e)",
    "account_set_password": "redirects: every account here has a password",
    "openid_connect_login": "redirects to the identity provider",
    "openid_connect_callback": "redirects back from the identity provider",
    "?accounts/social/login/cancelled/": "redirects to the /3rdparty/ address",
    "?accounts/social/login/error/": "redirects to the /3rdparty/ address",
    "?accounts/social/signup/": "redirects to the /3rdparty/ address",
    "?accounts/social/connections/": "redirects to the /3rdparty/ address",
}


def test_every_page_is_swept_or_excluded():
    swept = {visit.key for visit in PAGES}
    outside_admin = {p.key for p in PATTERNS if not p.route.startswith("admin/")}
    missing = sorted(outside_admin - swept - set(EXCLUDED))
    assert not missing, (
        "Pages no one sweeps: add a line to PAGES (or a reason to EXCLUDED) in "
        f"tests/e2e/test_accessibility_e2e.py: {missing}"
    )
    stale = sorted((set(EXCLUDED) | swept) - outside_admin - _admin_keys())
    assert not stale, f"No such URL name: {stale}"
    both = sorted(swept & set(EXCLUDED))
    assert not both, f"Both swept and excluded: {both}"


def _admin_keys() -> set[str]:
    return {p.key for p in PATTERNS if p.route.startswith("admin/")}


# --- the world the sweep visits ------------------------------------------------------


def sweep_world() -> w.World:
    """The permission matrix's world (learner A owns one of everything), with
    a paid course, a full date learner A waits for, a superuser and a new
    staff member who has not set up two-factor authentication yet."""
    world = w.build_world()
    course = world.things["course"]
    paid = CourseFactory.create(title="Advanced wound care", price=Decimal("185"))
    world.things["paid_course"] = paid
    world.things["paid_session"] = SessionFactory.create(course=paid)
    full = SessionFactory.create(course=course, capacity=1)
    BookingFactory.create(session=full)
    BookingFactory.create(
        person=world.users[w.LEARNER], session=full, status=Booking.Status.WAITLISTED
    )
    superuser = w.UserFactory.create(is_staff=True, is_superuser=True)
    give_totp(superuser)
    world.users[SUPERUSER] = superuser
    world.users[NEW_STAFF] = w.UserFactory.create(is_staff=True)
    fresh = w.UserFactory.create(is_staff=True)
    fresh.groups.add(Group.objects.get(name=roles.BOOKING_ADMINS))
    world.things["totp_secret"] = generate_totp_secret()
    TOTP.activate(fresh, world.things["totp_secret"])
    RecoveryCodes.activate(fresh)
    world.users[FRESH_STAFF] = fresh
    for person in (fresh, world.users[NEW_STAFF]):
        EmailAddress.objects.create(
            user=person, email=person.email, primary=True, verified=True
        )
    world.users[SIGNING_IN] = None
    return world


# Roles signed in through the sign-in form, then confirming their password
# (the two-factor pages ask for a recent confirmation, which a session cookie
# alone does not carry).
SIGNS_IN_BY_FORM = {NEW_STAFF, FRESH_STAFF}


class Browsers:
    """One browser context per role, signed in by a session cookie (or the
    sign-in form, SIGNS_IN_BY_FORM)."""

    def __init__(self, browser, live_server, world):
        self.browser, self.base, self.world = browser, live_server.url, world
        self.live_server = live_server
        self.pages = {}

    def page(self, role: str):
        if role not in self.pages:
            context = self.browser.new_context(base_url=self.base)
            user = self.world.users[role]
            page = context.new_page()
            page.set_default_timeout(5_000)
            self.pages[role] = page
            if role in SIGNS_IN_BY_FORM:
                secret = (
                    self.world.things["totp_secret"] if role == FRESH_STAFF else None
                )
                signed_in_through_the_form(
                    page, self.live_server, user.email, totp_secret=secret
                )
                # ... and confirm it is them, as two-factor pages ask.
                page.goto("/accounts/reauthenticate/")
                page.get_by_label("Password", exact=True).fill(FACTORY_PASSWORD)
                with page.expect_navigation():
                    page.get_by_role("button", name="Continue").click()
            elif user is not None:
                client = Client()
                client.force_login(user)
                cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
                context.add_cookies(
                    [
                        {
                            "name": settings.SESSION_COOKIE_NAME,
                            "value": cookie,
                            "url": self.base,
                        }
                    ]
                )
        return self.pages[role]

    def close(self):
        for page in self.pages.values():
            page.context.close()


def path_of(visit: Visit, world) -> str:
    if isinstance(visit.path, str):
        return visit.path
    if visit.path is not None:
        return visit.path(world)
    [pattern] = [p for p in PATTERNS if p.key == visit.key]
    found = paths_for(pattern, world)
    assert not isinstance(found, str), found
    return found[0][0]


def visit_page(page, path: str, visit: Visit, world) -> int:
    """Open the page (and act on it): the status of the document it ends on."""
    answers = []

    def note(response):
        request = response.request
        if request.is_navigation_request() and request.frame == page.main_frame:
            answers.append(response.status)

    page.on("response", note)
    try:
        page.goto(path)
        if visit.then:
            visit.then(page, world)
        page.wait_for_load_state()
    finally:
        page.remove_listener("response", note)
    return answers[-1]


def sweep(visits, browser, live_server) -> None:
    world = sweep_world()
    browsers = Browsers(browser, live_server, world)
    axe = AXE_JS.read_text()
    problems = []
    try:
        for visit in visits:
            page = browsers.page(visit.role)
            if visit.role == SIGNING_IN:
                page.context.clear_cookies()
            path = path_of(visit, world)
            try:
                status = visit_page(page, path, visit, world)
                page.evaluate(axe)
                violations = page.evaluate(RUN_AXE, WCAG_22_AA)
            except Exception as exc:
                where = f"{page.url}, headed {page.locator('h1').all_inner_texts()}"
                first_line = str(exc).splitlines()[0]
                problems.append(
                    f"{visit.label()} ({path}): could not sweep on {where}: {first_line}"
                )
                continue
            landed = urlsplit(page.url).path
            if not visit.then and landed != urlsplit(path).path and not visit.moves:
                problems.append(
                    f"{visit.label()} as {visit.role} ({path}): sent on to {landed}"
                )
            if visit.state == "errors" and not page.locator(ERRORS).count():
                problems.append(
                    f"{visit.label()} as {visit.role} ({page.url}): no error shown"
                )
            if status != visit.status:
                problems.append(
                    f"{visit.label()} as {visit.role} ({page.url}): answered "
                    f"{status}, not {visit.status}"
                )
            for v in violations:
                problems.append(
                    f"{visit.label()} as {visit.role} ({page.url}): {v['id']} "
                    f"[{v['impact']}] {v['help']}: {', '.join(v['targets'])}"
                )
    finally:
        browsers.close()
    assert not problems, f"{len(problems)} accessibility violations:\n" + "\n".join(
        problems
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "visits",
    [
        pytest.param(LEARNER_PAGES, id="learner-and-manager"),
        pytest.param(STAFF_PAGES, id="staff"),
        pytest.param(ADMIN_PAGES, id="django-admin"),
    ],
)
def test_axe_finds_no_wcag_22_aa_violation(
    visits, browser, live_server, first_policies
):
    sweep(visits, browser, live_server)
