"""Single sign-on providers (OpenID Connect), read from `OIDC_PROVIDERS`.

`OIDC_PROVIDERS` is a JSON list with one object per provider::

    [{"id": "nhsmail", "name": "NHSmail",
      "server_url": "https://login.microsoftonline.com/<tenant>/v2.0",
      "client_id": "...", "secret": "..."}]

`id` becomes part of the redirect URI (`/accounts/oidc/<id>/login/callback/`);
`name` is shown on the button ("Sign in with NHSmail"); `server_url` is the
issuer, whose `/.well-known/openid-configuration` is read at sign-in. The
optional `verified_email_domains` lists domains whose addresses the provider
is trusted to have verified even when it sends no `email_verified` claim
(Microsoft Entra ID sends none); see the README before using it.

Empty or unset: no providers, no "Sign in with" button. Anything malformed
stops start-up with one sentence naming the variable and a good example.
"""

import json
import re
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

VARIABLE = "OIDC_PROVIDERS"
EXAMPLE = (
    '[{"id": "nhsmail", "name": "NHSmail", "server_url": '
    '"https://login.microsoftonline.com/<tenant>/v2.0", '
    '"client_id": "<application id>", "secret": "<client secret>"}]'
)
REQUIRED = ("id", "name", "server_url", "client_id", "secret")
OPTIONAL = ("verified_email_domains",)
# The id is a path segment of the redirect URI registered with the provider.
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _refuse(problem: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"{VARIABLE} {problem}; set it to a JSON list of providers like {EXAMPLE}"
    )


def _check(index: int, entry: object) -> dict:
    where = f"entry {index + 1}"
    if not isinstance(entry, dict):
        raise _refuse(f"{where} is not a JSON object")
    missing = [key for key in REQUIRED if key not in entry]
    if missing:
        raise _refuse(f"{where} has no {', '.join(missing)}")
    unknown = sorted(set(entry) - {*REQUIRED, *OPTIONAL})
    if unknown:
        raise _refuse(f"{where} has unknown keys {', '.join(unknown)}")
    for key in REQUIRED:
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise _refuse(f"{where} has an empty or non-text {key}")
    if not ID_PATTERN.match(entry["id"]):
        raise _refuse(
            f"{where} has the id {entry['id']!r}, which must be lower-case "
            "letters, digits and hyphens (it is part of the redirect URI)"
        )
    url = urlsplit(entry["server_url"])
    secure = url.scheme == "https" or (
        url.scheme == "http" and url.hostname in LOOPBACK
    )
    if not (secure and url.hostname) or url.query or url.fragment:
        raise _refuse(
            f"{where} has the server_url {entry['server_url']!r}, which must be "
            "an https:// address (http:// only on this machine)"
        )
    domains = entry.get("verified_email_domains", [])
    if not isinstance(domains, list) or not all(
        isinstance(d, str) and d.strip() for d in domains
    ):
        raise _refuse(f"{where} has verified_email_domains that is not a list of text")
    return entry


def parse_providers(raw: str) -> list[dict]:
    """The providers in `raw` (the variable's value), checked; [] when empty."""
    if not raw.strip():
        return []
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise _refuse(f"is not valid JSON ({exc})") from None
    if not isinstance(value, list):
        raise _refuse("is not a JSON list")
    providers = [_check(index, entry) for index, entry in enumerate(value)]
    ids = [p["id"] for p in providers]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise _refuse(f"names the id {', '.join(repeated)} more than once")
    return providers


def socialaccount_providers(providers: list[dict]) -> dict:
    """SOCIALACCOUNT_PROVIDERS for allauth's OpenID Connect provider."""
    apps = []
    for p in providers:
        app_settings = {"server_url": p["server_url"].rstrip("/")}
        if p.get("verified_email_domains"):
            app_settings["verified_email"] = [
                d.strip().lower() for d in p["verified_email_domains"]
            ]
        apps.append(
            {
                "provider_id": p["id"],
                "name": p["name"],
                "client_id": p["client_id"],
                "secret": p["secret"],
                "settings": app_settings,
            }
        )
    # PKCE on every sign-in: a stolen authorisation code is of no use alone.
    return {"openid_connect": {"APPS": apps, "OAUTH_PKCE_ENABLED": True}}


def form_action_origins(providers: list[dict]) -> list[str]:
    """The origins the sign-in button's POST is redirected to. Browsers apply
    CSP `form-action` to the redirects after a form is sent, so each provider's
    origin must be allowed there or the browser stops the sign-in."""
    origins = []
    for p in providers:
        url = urlsplit(p["server_url"])
        origin = f"{url.scheme}://{url.netloc}"
        if origin not in origins:
            origins.append(origin)
    return origins
