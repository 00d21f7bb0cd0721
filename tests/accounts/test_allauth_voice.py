"""allauth's pages and mails speak in the service's voice: sentence-case
headings, real labels (no placeholders), the error summary above the heading
with links to the fields, "Error: " at the start of the title, specific error
messages, and mails signed with SITE_NAME, not "Hello from example.com"."""

import re

import pytest
from django.conf import settings
from django.core import mail

from tests.conftest import give_totp

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-password"
FACTORY_PASSWORD = "correct-horse-battery"


def title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()


def h1(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found)).strip()


def assert_no_allauth_voice(html: str) -> None:
    assert "placeholder=" not in html
    for shouting in (
        "Sign Up",
        "Sign In",
        "Sign Out",
        "Verify Your Email",
        "Password Reset",
        "Change Password",
        "Confirm Access",
        "Two-Factor Authentication",
        "Authenticator App",
        "Recovery Codes",
    ):
        assert shouting not in html, shouting


@pytest.mark.parametrize(
    ("url", "heading"),
    [
        ("/accounts/signup/", "Create an account"),
        ("/accounts/login/", "Sign in"),
        ("/accounts/password/reset/", "Reset your password"),
        ("/accounts/password/reset/done/", "Check your email"),
        ("/accounts/confirm-email/", "Check your email"),
        ("/accounts/confirm-email/not-a-key/", "This link does not work"),
        ("/accounts/password/reset/key/1-bad/", "This link does not work"),
        ("/accounts/password/reset/key/done/", "Your password has been changed"),
    ],
)
def test_signed_out_pages_have_sentence_case_headings_and_labels(client, url, heading):
    response = client.get(url, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert h1(html) == heading
    assert title(html) == f"{heading} \N{EN DASH} {settings.SITE_NAME}"
    assert_no_allauth_voice(html)


@pytest.mark.parametrize(
    ("url", "heading"),
    [
        ("/accounts/logout/", "Are you sure you want to sign out?"),
        ("/accounts/password/change/", "Change your password"),
        ("/accounts/email/", "Your email address"),
        ("/accounts/2fa/", "Two-factor authentication"),
        # Adding an authenticator asks for the password first.
        ("/accounts/2fa/totp/activate/", "Confirm it is you"),
    ],
)
def test_signed_in_pages_have_sentence_case_headings(learner_client, url, heading):
    response = learner_client.get(url, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert h1(html) == heading
    assert_no_allauth_voice(html)


def test_sign_up_groups_the_marketing_choices_under_one_legend(client):
    html = client.get("/accounts/signup/").content.decode()
    fieldset = re.search(r"<fieldset.*?</fieldset>", html, re.S).group(0)
    assert "How we may contact you about offers and news (optional)" in fieldset
    assert "</legend>" in fieldset
    boxes = re.findall(r'name="((?:partner_)?marketing__\w+)"', fieldset)
    assert boxes == [
        "marketing__email",
        "marketing__sms",
        "marketing__phone",
        "marketing__post",
        "partner_marketing__post",
    ]
    # Unticked unless the person ticks them.
    assert "checked" not in fieldset
    # Every other field has a visible label, not a placeholder.
    for field, label in [
        ("id_first_name", "First name"),
        ("id_email", "Email address"),
        ("id_password1", "Create a password"),
        ("id_password2", "Confirm password"),
    ]:
        assert re.search(rf'<label[^>]*for="{field}"[^>]*>\s*{label}\s*</label>', html)


def test_an_empty_sign_up_summarises_specific_errors_above_the_heading(client):
    html = client.post("/accounts/signup/", {}).content.decode()
    assert title(html).startswith("Error: Create an account")
    summary = html.index('class="govuk-error-summary"')
    assert summary < html.index("<h1")
    for anchor, message in [
        ("#id_first_name", "Enter your first name"),
        ("#id_last_name", "Enter your last name"),
        ("#id_email", "Enter your email address"),
        ("#id_password1", "Enter a password"),
    ]:
        assert f'<a href="{anchor}">{message}</a>' in html
    assert "This field is required" not in html


def test_an_empty_sign_in_says_what_to_enter(client):
    html = client.post("/accounts/login/", {}).content.decode()
    assert title(html).startswith("Error: Sign in")
    assert html.index("govuk-error-summary") < html.index("<h1")
    assert '<a href="#id_login">Enter your email address</a>' in html
    assert '<a href="#id_password">Enter your password</a>' in html


def test_a_wrong_password_is_told_plainly(client, verified_user):
    html = client.post(
        "/accounts/login/", {"login": verified_user.email, "password": "nope"}
    ).content.decode()
    assert title(html).startswith("Error: ")
    assert "Enter the email address and password of your account" in html


def test_the_sign_up_mail_is_from_the_service_not_the_host(client):
    client.post(
        "/accounts/signup/",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@school.example",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    (message,) = mail.outbox
    assert message.subject == (
        f"[{settings.SITE_NAME}] Confirm your email address to finish creating "
        "your account"
    )
    assert message.body.startswith("Hello Ada,\n")
    assert f"creating an account with {settings.SITE_NAME}" in message.body
    assert "Hello from" not in message.body
    assert "example.com" not in message.body
    assert message.body.rstrip().endswith(f"{settings.SITE_NAME}\n{settings.SITE_URL}")


def test_the_password_reset_mail_is_plain_and_friendly(client, verified_user):
    client.post("/accounts/password/reset/", {"email": verified_user.email})
    (message,) = mail.outbox
    assert message.subject == f"[{settings.SITE_NAME}] Reset your password"
    assert f"your {settings.SITE_NAME} account" in message.body
    assert "/accounts/password/reset/key/" in message.body
    assert "If you did not ask to reset your password" in message.body


def test_a_reset_for_an_unknown_address_is_in_the_same_voice(client):
    client.post("/accounts/password/reset/", {"email": "nobody@school.example"})
    (message,) = mail.outbox
    assert message.subject == f"[{settings.SITE_NAME}] You asked to reset a password"
    assert f"{settings.SITE_NAME} has no account with it" in message.body


def test_the_two_factor_code_page_labels_its_field(client, verified_user):
    give_totp(verified_user)
    client.post(
        "/accounts/login/",
        {"login": verified_user.email, "password": FACTORY_PASSWORD},
    )
    response = client.get("/accounts/2fa/authenticate/")
    html = response.content.decode()
    assert h1(html) == "Enter your code"
    assert_no_allauth_voice(html)
    html = client.post("/accounts/2fa/authenticate/", {"code": ""}).content.decode()
    assert title(html).startswith("Error: Enter your code")
    assert '<a href="#id_code">Enter the code</a>' in html


def _signed_in_with_two_factor(client, user):
    """Through the real sign-in, code and all, so allauth counts the sign-in
    as recent and shows its two-factor pages without asking again."""
    import time

    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import (
        TOTP,
        format_hotp_value,
        generate_totp_secret,
        hotp_value,
    )

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    client.post("/accounts/login/", {"login": user.email, "password": FACTORY_PASSWORD})
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    client.post("/accounts/2fa/authenticate/", {"code": code})


def test_two_factor_pages_once_it_is_on(client, verified_user, settings):
    _signed_in_with_two_factor(client, verified_user)
    index = client.get("/accounts/2fa/").content.decode()
    assert h1(index) == "Two-factor authentication"
    assert "Make new codes" in index
    assert_no_allauth_voice(index)
    # Signed in with a password and a code moments ago: the codes are shown
    # without asking for the password again.
    codes = client.get("/accounts/2fa/recovery-codes/").content.decode()
    assert h1(codes) == "Your recovery codes"
    # Once the sign-in is no longer recent, seeing them asks for the password
    # again ("Confirm it is you").
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
    response = client.get("/accounts/2fa/recovery-codes/", follow=True)
    assert h1(response.content.decode()) == "Confirm it is you"
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
    response = client.post(
        response.redirect_chain[-1][0],
        {"password": FACTORY_PASSWORD},
        follow=True,
    )
    codes = response.content.decode()
    assert h1(codes) == "Your recovery codes"
    assert re.search(
        r'<label[^>]*for="recovery_codes"[^>]*>Unused codes</label>', codes
    )
    # "Continue" is the primary button; "Make new codes" a secondary one.
    assert re.search(r'<a class="govuk-button" [^>]*>Continue</a>', codes)
    assert re.search(
        r'<a class="govuk-button govuk-button--secondary" [^>]*>Make new codes</a>',
        codes,
    )
    assert_no_allauth_voice(codes)
    generate = client.get("/accounts/2fa/recovery-codes/generate/").content.decode()
    assert h1(generate) == "Make new recovery codes"
    assert "Your current codes will stop working." in generate
    off = client.get("/accounts/2fa/totp/deactivate/").content.decode()
    assert h1(off) == "Are you sure you want to turn off two-factor authentication?"
    assert_no_allauth_voice(off)


def test_two_different_passwords_are_told_plainly(client):
    html = client.post(
        "/accounts/signup/",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@school.example",
            "password1": PASSWORD,
            "password2": PASSWORD + "x",
        },
    ).content.decode()
    assert '<a href="#id_password2">Enter the same password in both boxes</a>' in html
    assert "You must type the same password" not in html
