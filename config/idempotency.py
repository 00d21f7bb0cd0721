"""A double submit never does the work twice.

Every form whose POST creates rows or sends mail carries a hidden field,
`idempotency_token`, holding a random value made fresh each time the form is
rendered (`{% load idempotency %}{% idempotency_field %}`). A view wrapped in
`@idempotent` claims the token for the signed-in person in the same transaction
as its work (`accounts.FormSubmission`, unique per person and token):

- the first POST with a token does the work; if it answers with a redirect
  (success, or a refusal shown as a message) the claim is kept together with
  where it went and the messages it showed;
- a second POST with the same token (a double click, Back and resubmit, a
  retried request) does nothing and is sent to the same place with the same
  messages. A concurrent second POST waits on the unique index until the first
  commits, then is replayed; if the first rolled back, the second does the work;
- a POST that re-shows the form (invalid input) releases its claim, so the
  corrected form can be sent.

Mail queued by such a view can carry `request_key(request)` in its outbox key,
so even work that ran twice would send each message once.

A POST without a (well-formed) token, from a script or a page rendered before
this existed, is handled as before. Claims are kept for
`IDEMPOTENCY_TOKEN_HOURS` (default 24) and then removed by the retention rule
registered in `accounts/privacy.py`.
"""

import re
import secrets
import uuid
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.html import format_html

FIELD = "idempotency_token"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,64}")
_REDIRECTS = (301, 302, 303, 307, 308)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def hidden_input() -> str:
    """The hidden field, with a token that is new at every render."""
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, new_token())


def token_from(request: HttpRequest) -> str | None:
    """The form token of a signed-in person's POST, or None."""
    if request.method != "POST" or not request.user.is_authenticated:
        return None
    token = request.POST.get(FIELD, "")
    return token if _TOKEN.fullmatch(token) else None


def request_key(request: HttpRequest) -> str:
    """A key for work done by this POST: derived from the form token, so a
    resubmission gets the same key; a random one when there is no token."""
    token = token_from(request)
    if token is None:
        return uuid.uuid4().hex[:16]
    return f"{request.user.pk}-{token}"


def _queued(request: HttpRequest) -> list:
    storage = getattr(request, "_messages", None)
    return list(getattr(storage, "_queued_messages", []))


def idempotent(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Claim the form token in the same transaction as the view's work."""
    from accounts.models import FormSubmission

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        token = token_from(request)
        if token is None:
            return view(request, *args, **kwargs)
        with transaction.atomic():
            claim, created = FormSubmission.objects.get_or_create(
                user=request.user, token=token, defaults={"path": request.path[:300]}
            )
            if not created:
                for level, text in claim.messages:
                    messages.add_message(request, level, text)
                return redirect(claim.result_url or request.path)
            before = len(_queued(request))
            response = view(request, *args, **kwargs)
            if response.status_code in _REDIRECTS and response.has_header("Location"):
                claim.result_url = response["Location"][:500]
                claim.messages = [
                    [m.level, str(m.message)] for m in _queued(request)[before:]
                ]
                claim.save(update_fields=["result_url", "messages"])
            else:
                # The form was shown again (invalid input): it may be sent again.
                claim.delete()
        return response

    wrapped.idempotent = True  # type: ignore[attr-defined]
    return wrapped
