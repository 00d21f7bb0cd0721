"""Single sign-on in the browser against a real OpenID Connect provider.

`oidc_provider` starts oidc-provider (a certified implementation, from
package-lock.json) on loopback with tests/e2e/oidc_provider.mjs; the app is
pointed at it the way OIDC_PROVIDERS would (config/sso.py), and Chromium goes
through the whole round trip: our button, the provider's own sign-in and
consent pages, the code exchange, ID token and userinfo, and back.

The login typed on the provider's page is the account: an address is sent
with email_verified true, "unverified:<address>" with email_verified false.
"""

import copy
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.socialaccount.models import SocialAccount
from csp.constants import SELF
from playwright.sync_api import expect

from accounts.models import Profile, User
from config import sso
from consent.models import ConsentRecord
from tests.accounts.factories import UserFactory
from tests.e2e.conftest import totp_code

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
PROVIDER_ID = "westmoor"
PROVIDER_NAME = "Westmoor Trust"
CLIENT_ID = "cpd-booking-tests"
CLIENT_SECRET = "tests-only-client-secret"
FACTORY_PASSWORD = "correct-horse-battery"
SSO_BUTTON = f"Sign in with {PROVIDER_NAME}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def oidc_provider(live_server):
    """The provider's issuer URL, with its one client registered for the live
    server's callback; stopped after the module's tests."""
    node = shutil.which("node")
    assert node, "the single sign-on tests need Node.js (node) on the PATH"
    assert (SCRIPT.parents[2] / "node_modules" / "oidc-provider").is_dir(), (
        "oidc-provider is missing: `npm ci` (make install) installs it"
    )
    port = _free_port()
    process = subprocess.Popen(
        [node, str(SCRIPT), str(port)],
        cwd=SCRIPT.parents[2],
        env={
            **os.environ,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_REDIRECT_URI": (
                f"{live_server.url}/accounts/oidc/{PROVIDER_ID}/login/callback/"
            ),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:
        # Keeps reading after the ready line, so a full pipe never blocks it.
        for line in process.stdout:
            output.append(line)
            if line.startswith("oidc-provider ready "):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(30):
            raise AssertionError(
                "oidc-provider did not start:\n" + "".join(output[-20:])
            )
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def configure(settings, providers: list[dict]) -> None:
    """What OIDC_PROVIDERS set to `providers` gives, through the same code."""
    checked = sso.parse_providers(json.dumps(providers))
    settings.SOCIALACCOUNT_PROVIDERS = sso.socialaccount_providers(checked)
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = [SELF, *sso.form_action_origins(checked)]
    settings.CONTENT_SECURITY_POLICY = policy


@pytest.fixture
def sso_page(settings, oidc_provider, page):
    configure(
        settings,
        [
            {
                "id": PROVIDER_ID,
                "name": PROVIDER_NAME,
                "server_url": oidc_provider,
                "client_id": CLIENT_ID,
                "secret": CLIENT_SECRET,
            }
        ],
    )
    # The provider's development pages import a web font; nothing may leave
    # this machine.
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/]|localhost[:/])"), _abort)
    return page


def _abort(route) -> None:
    route.abort()


def sign_in_with_sso(
    page, live_server, login: str, *, signed_in_at_provider: bool = False
) -> None:
    """From our sign-in page through the provider's pages and back. While
    the browser is still signed in at the provider, it sends them straight
    back without a page of its own."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name=SSO_BUTTON, exact=True).click()
    if not signed_in_at_provider:
        # The provider's sign-in page: any password; the login is the account.
        page.locator('input[name="login"]').fill(login)
        page.locator('input[name="password"]').fill("anything")
        page.get_by_role("button", name="Sign-in").click()
        page.get_by_role("button", name="Continue").click()
    # Back on our site (the callback has redirected on).
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/"))


def verified_person(address: str, **extra) -> User:
    user = UserFactory.create(email=address, **extra)
    EmailAddress.objects.create(user=user, email=address, primary=True, verified=True)
    return user


def test_a_new_person_signs_in_with_sso_and_gets_an_account_and_profile(
    live_server, sso_page, first_policies
):
    page = sso_page
    address = "ada.lovelace@westmoor.example"
    sign_in_with_sso(page, live_server, address)

    # Like any sign-up: name (filled in from the provider), the privacy
    # notice, and marketing choices left unticked.
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    expect(page.get_by_role("link", name="privacy notice", exact=True)).to_be_visible()
    expect(page.get_by_label("First name")).to_have_value("Ada")
    expect(page.get_by_label("Last name")).to_have_value("Lovelace")
    expect(page.get_by_label("Email address", exact=True)).to_have_value(address)
    expect(page.get_by_label("Email me offers and news from us")).not_to_be_checked()
    page.get_by_role("button", name="Create account").click()

    # The provider verified the address: signed in at once, no mail to confirm.
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()
    user = User.objects.get(email=address)
    assert (user.first_name, user.last_name) == ("Ada", "Lovelace")
    assert not user.has_usable_password()
    assert Profile.objects.filter(user=user).exists()
    assert EmailAddress.objects.get(user=user).verified
    account = SocialAccount.objects.get(user=user)
    assert (account.provider, account.uid) == (PROVIDER_ID, address)
    assert account.extra_data["userinfo"]["email_verified"] is True
    assert user.privacy_version_seen is not None
    assert ConsentRecord.objects.filter(person=user, granted=True).count() == 0

    # Next time the link itself signs them in: no form, the same account.
    sign_out(page)
    sign_in_with_sso(page, live_server, address, signed_in_at_provider=True)
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()
    assert User.objects.filter(email=address).count() == 1
    assert SocialAccount.objects.count() == 1


def sign_out(page) -> None:
    # allauth signs out on a POST; its page asks first.
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()


def test_an_existing_verified_account_is_signed_into_and_linked(live_server, sso_page):
    page = sso_page
    address = "grace.hopper@westmoor.example"
    person = verified_person(address, first_name="Grace")
    users = User.objects.count()

    sign_in_with_sso(page, live_server, address)

    # Straight in: no sign-up form, and the same account, now linked.
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()
    assert User.objects.count() == users
    account = SocialAccount.objects.get()
    assert account.user_id == person.pk
    assert account.uid == address
    person.refresh_from_db()
    assert person.check_password(FACTORY_PASSWORD), "their password still works"
    page.goto(f"{live_server.url}/profile/")
    expect(page.get_by_text(address).first).to_be_visible()


@pytest.mark.parametrize(
    ("login", "verified_here"),
    [
        # Verified by the provider, but never confirmed here: whoever signed
        # up with this address may not be its owner.
        ("katherine.johnson@westmoor.example", False),
        # Confirmed here, but the provider does not vouch for the address.
        ("unverified:katherine.johnson@westmoor.example", True),
    ],
    ids=["not-verified-here", "not-verified-by-provider"],
)
def test_an_account_is_never_entered_or_linked_without_both_verifications(
    live_server, sso_page, smtp_server, login, verified_here
):
    page = sso_page
    address = "katherine.johnson@westmoor.example"
    person = UserFactory.create(email=address, first_name="Katherine")
    EmailAddress.objects.create(
        user=person, email=address, primary=True, verified=verified_here
    )
    users = User.objects.count()

    sign_in_with_sso(page, live_server, login)

    # Not signed in: they are offered the sign-up form, as anyone is…
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    expect(page.get_by_role("link", name="Sign out")).to_have_count(0)
    page.get_by_role("button", name="Create account").click()
    # …and a used address ends the way a sign-up with it always does: "check
    # your email", with a message to the address's owner, and nothing else.
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.get_by_role("link", name="Sign out")).to_have_count(0)
    _wait_for_mail_to(smtp_server, address)

    assert User.objects.count() == users
    assert SocialAccount.objects.count() == 0
    person.refresh_from_db()
    assert person.check_password(FACTORY_PASSWORD), "their password still works"
    assert EmailAddress.objects.get(user=person).verified is verified_here


def _wait_for_mail_to(smtp_server, address: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not any(address in e.rcpt_tos for e in smtp_server.envelopes):
        assert time.monotonic() < deadline, f"no mail to {address}"
        time.sleep(0.1)


def test_staff_signing_in_with_sso_still_give_their_authenticator_code(
    live_server, sso_page
):
    page = sso_page
    address = "dora.dpo@westmoor.example"
    staff = verified_person(address, is_staff=True, is_superuser=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)

    sign_in_with_sso(page, live_server, address)

    # The provider's word is one factor; the authenticator is still asked for.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    expect(page.get_by_role("link", name="Sign out")).to_have_count(0)
    page.locator('input[name="code"]').fill(totp_code(secret))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()
    page.goto(f"{live_server.url}/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()


def test_with_no_provider_configured_there_is_no_sso_button(
    live_server, page, settings
):
    configure(settings, [])
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Sign in with"))).to_have_count(
        0
    )
    expect(page.get_by_text("Or use your work account")).to_have_count(0)
