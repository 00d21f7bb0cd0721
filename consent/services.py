"""Writes of consent. Every choice is a new, append-only ConsentRecord that
names its source and the policy version in force; nothing is ever updated."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User

from . import selectors
from .models import PURPOSE_CHANNELS, ConsentRecord, PolicyVersion


class ConsentError(Exception):
    """A refusal whose message is safe to show."""


def record_consent(
    person: User,
    purpose: str,
    channel: str,
    granted: bool,
    source: str,
    *,
    by: User | None = None,
    note: str = "",
) -> ConsentRecord:
    if channel not in PURPOSE_CHANNELS.get(purpose, ()):
        raise ConsentError(_("That purpose cannot use that channel."))
    if source == ConsentRecord.Source.STAFF and not note.strip():
        raise ConsentError(_("Add a note saying how the person told you their choice."))
    return ConsentRecord.objects.create(
        person=person,
        purpose=purpose,
        channel=channel,
        granted=granted,
        source=source,
        policy_version=selectors.policy_current(PolicyVersion.Kind.PRIVACY),
        recorded_by=by,
        note=note.strip()[:500],
    )


def update_preferences(
    person: User, wanted: dict[tuple[str, str], bool], *, source: str
) -> list[ConsentRecord]:
    """Record only the choices that changed; takes effect at once for anything
    not yet sent, because every sender asks `can_contact` at send time.

    The person's row is locked while their current choices are read and the
    changes written, so two changes at once (the preferences page and an
    unsubscribe link, say) are recorded one after the other, each compared
    with what the other recorded."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=person.pk).first()
        current = selectors.current_choices(person)
        return [
            record_consent(person, purpose, channel, granted, source)
            for (purpose, channel), granted in wanted.items()
            if current.get((purpose, channel)) != granted
        ]


def record_signup_choices(person: User, wanted: dict[tuple[str, str], bool]) -> None:
    """At sign-up every offered choice is recorded, ticked or not, as proof of
    what was offered and chosen."""
    for (purpose, channel), granted in wanted.items():
        record_consent(person, purpose, channel, granted, ConsentRecord.Source.SIGNUP)


def publish_policy(policy: PolicyVersion) -> PolicyVersion:
    from django.utils import timezone

    if policy.published_at is None:
        policy.published_at = timezone.now()
        policy.save(update_fields=["published_at"])
    return policy


def mark_policy_seen(person: User, policy: PolicyVersion) -> None:
    User.objects.filter(pk=person.pk).update(privacy_version_seen=policy.pk)
    person.privacy_version_seen = policy.pk
