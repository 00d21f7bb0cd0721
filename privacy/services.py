"""Writes for privacy records. Other apps call these; privacy imports none of them."""

from accounts.models import User

from .models import Disclosure


def log_disclosure(
    person: User, *, recipient: str, fields: list[str], purpose: str, reference: str = ""
) -> Disclosure:
    return Disclosure.objects.create(
        person=person,
        recipient=recipient,
        fields=", ".join(fields),
        purpose=purpose,
        reference=reference,
    )
