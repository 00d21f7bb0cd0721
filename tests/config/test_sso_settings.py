"""OIDC_PROVIDERS (config/sso.py): a good value becomes allauth's provider
settings and the CSP's form-action; a bad one stops start-up with one sentence
that names the variable and shows a good value."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import sso

ROOT = Path(__file__).resolve().parents[2]

ENTRA = {
    "id": "nhsmail",
    "name": "NHSmail",
    "server_url": "https://login.microsoftonline.com/tenant-id/v2.0",
    "client_id": "00000000-1111-2222-3333-444444444444",
    "secret": "client-secret",
}


def test_unset_or_empty_means_no_providers():
    assert sso.parse_providers("") == []
    assert sso.parse_providers("  ") == []
    assert sso.parse_providers("[]") == []
    assert sso.socialaccount_providers([])["openid_connect"]["APPS"] == []
    assert sso.form_action_origins([]) == []


def test_a_good_value_becomes_allauths_apps_and_the_form_action():
    school = {
        **ENTRA,
        "id": "westmoor-schools",
        "name": "Westmoor Schools",
        "server_url": "https://login.microsoftonline.com/other-tenant/v2.0/",
        "verified_email_domains": ["Westmoor.Sch.UK"],
    }
    providers = sso.parse_providers(json.dumps([ENTRA, school]))
    config = sso.socialaccount_providers(providers)["openid_connect"]
    assert config["OAUTH_PKCE_ENABLED"] is True
    assert config["APPS"] == [
        {
            "provider_id": "nhsmail",
            "name": "NHSmail",
            "client_id": ENTRA["client_id"],
            "secret": "client-secret",
            "settings": {"server_url": ENTRA["server_url"]},
        },
        {
            "provider_id": "westmoor-schools",
            "name": "Westmoor Schools",
            "client_id": ENTRA["client_id"],
            "secret": "client-secret",
            "settings": {
                "server_url": "https://login.microsoftonline.com/other-tenant/v2.0",
                "verified_email": ["westmoor.sch.uk"],
            },
        },
    ]
    # Both at one origin: it is allowed once.
    assert sso.form_action_origins(providers) == ["https://login.microsoftonline.com"]


def test_plain_http_is_allowed_only_on_this_machine():
    local = {**ENTRA, "server_url": "http://127.0.0.1:9000"}
    assert sso.parse_providers(json.dumps([local]))[0]["server_url"] == (
        "http://127.0.0.1:9000"
    )
    with pytest.raises(ImproperlyConfigured, match="must be an https:// address"):
        sso.parse_providers(json.dumps([{**ENTRA, "server_url": "http://idp.example"}]))


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("not json", "is not valid JSON"),
        (json.dumps(ENTRA), "is not a JSON list"),
        (json.dumps(["nhsmail"]), "entry 1 is not a JSON object"),
        (
            json.dumps([{k: v for k, v in ENTRA.items() if k != "secret"}]),
            "entry 1 has no secret",
        ),
        (json.dumps([{**ENTRA, "secrett": "x"}]), "entry 1 has unknown keys secrett"),
        (json.dumps([{**ENTRA, "client_id": ""}]), "has an empty or non-text"),
        (json.dumps([{**ENTRA, "id": "NHS mail"}]), "lower-case letters, digits"),
        (json.dumps([{**ENTRA, "server_url": "login.example"}]), "https://"),
        (
            json.dumps([{**ENTRA, "verified_email_domains": "nhs.net"}]),
            "verified_email_domains that is not a list",
        ),
        (json.dumps([ENTRA, ENTRA]), "names the id nhsmail more than once"),
    ],
)
def test_a_malformed_value_is_refused_in_one_sentence_with_an_example(value, problem):
    with pytest.raises(ImproperlyConfigured) as refused:
        sso.parse_providers(value)
    message = str(refused.value)
    assert message.startswith("OIDC_PROVIDERS ")
    assert problem in message
    assert message.endswith(sso.EXAMPLE)
    # The example itself is a good value (with its placeholders).
    assert sso.parse_providers(sso.EXAMPLE)[0]["id"] == "nhsmail"
    assert "\n" not in message


def test_start_up_stops_on_a_malformed_value():
    env = {**os.environ, "OIDC_PROVIDERS": '[{"id": "nhsmail"}]'}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    # One line, no traceback (config/env.py).
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Configuration error: ")
    assert "OIDC_PROVIDERS entry 1 has no name, server_url, client_id, secret" in line
