"""Staff setting up two-factor authentication on first use: not asked for their
password again moments after signing in, and sent on afterwards to the page
they asked for (a path on this site only)."""

import re
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth.models import Group
from django.test import Client

from accounts import roles
from accounts.middleware import MFA_NEXT
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

FACTORY_PASSWORD = "correct-horse-battery"
SETUP = "/accounts/2fa/totp/activate/"


@pytest.fixture
def booking_admin():
    user = UserFactory.create(is_staff=True)
    user.groups.add(Group.objects.get(name=roles.BOOKING_ADMINS))
    EmailAddress.objects.create(
        user=user, email=user.email, primary=True, verified=True
    )
    return user


def sign_in(client: Client, user, next_path: str = "") -> str:
    response = client.post(
        "/accounts/login/" + (f"?next={next_path}" if next_path else ""),
        {"login": user.email, "password": FACTORY_PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return response["Location"]


def turn_on(client: Client) -> str:
    page = client.get(SETUP)
    assert page.status_code == 200
    secret = re.search(
        r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page.content.decode()
    ).group(1)
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post(SETUP, {"code": code})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def continue_href(html: str) -> str:
    return re.search(
        r'<a class="govuk-button" [^>]*href="([^"]+)"[^>]*>Continue<', html
    ).group(1)


def test_sign_in_then_set_up_then_continue_to_the_page_asked_for(client, booking_admin):
    wanted = "/staff/reports/?from=2026-01-01"
    assert sign_in(client, booking_admin, wanted) == wanted
    response = client.get(wanted)
    assert response.status_code == 302
    assert response["Location"] == SETUP
    # Signed in moments ago: the set-up page opens without the password again.
    assert turn_on(client) == "/accounts/2fa/recovery-codes/"
    codes = client.get("/accounts/2fa/recovery-codes/").content.decode()
    assert "Your recovery codes" in codes
    assert continue_href(codes) == wanted.replace("&", "&amp;")
    assert client.get(wanted).status_code == 200
    # Served: the kept page is forgotten.
    assert MFA_NEXT not in client.session


def test_without_a_page_asked_for_continue_goes_to_the_staff_home(
    client, booking_admin
):
    sign_in(client, booking_admin)
    turn_on(client)
    codes = client.get("/accounts/2fa/recovery-codes/").content.decode()
    assert continue_href(codes) == "/staff/"


def test_a_learner_continues_to_the_two_factor_page(client, verified_user):
    sign_in(client, verified_user)
    turn_on(client)
    codes = client.get("/accounts/2fa/recovery-codes/").content.decode()
    assert continue_href(codes) == "/accounts/2fa/"


def test_a_post_keeps_only_a_referer_on_this_site(client, booking_admin):
    sign_in(client, booking_admin)
    client.post("/staff/sessions/1/email/", HTTP_REFERER="https://evil.example/x")
    assert MFA_NEXT not in client.session
    client.post(
        "/staff/sessions/1/email/", HTTP_REFERER="http://testserver/staff/funding/"
    )
    assert client.session[MFA_NEXT] == "/staff/funding/"


def test_once_the_sign_in_is_not_recent_the_password_is_asked_again(
    client, booking_admin, settings
):
    sign_in(client, booking_admin)
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")


def test_a_session_with_no_sign_in_record_is_asked_for_the_password(booking_admin):
    # Signed in some other way (no password typed here): not a recent sign-in.
    client = Client()
    client.force_login(booking_admin)
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
