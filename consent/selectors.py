"""Reads of consent: the current choice is the latest record per purpose and
channel. `can_contact` is the one question every sender asks."""

from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import User

from .models import (
    MARKETING_PURPOSES,
    PURPOSE_CHANNELS,
    ConsentRecord,
    PolicyVersion,
    ProcessingPurpose,
    Purpose,
)

COOKIE_NAME = "cookie_choice"


def can_contact(person: User, channel: str, purpose: str) -> bool:
    """True only if the person's latest choice for this purpose and channel is a
    grant, and nothing overrides it (inactive or erased account, restriction,
    objection to direct marketing)."""
    if not person.is_active or person.erased_at is not None:
        return False
    if person.processing_restricted:
        return False
    if purpose in MARKETING_PURPOSES and person.objects_to_direct_marketing:
        return False
    latest = (
        ConsentRecord.objects.filter(person=person, purpose=purpose, channel=channel)
        .order_by("-recorded_at", "-pk")
        .values_list("granted", flat=True)
        .first()
    )
    return bool(latest)


def current_choices(person: User) -> dict[tuple[str, str], bool]:
    """{(purpose, channel): granted} for every purpose and channel we offer."""
    choices = {
        (p, c): False for p, channels in PURPOSE_CHANNELS.items() for c in channels
    }
    seen = set()
    for purpose, channel, granted in (
        ConsentRecord.objects.filter(person=person)
        .order_by("-recorded_at", "-pk")
        .values_list("purpose", "channel", "granted")
    ):
        if (purpose, channel) not in seen:
            seen.add((purpose, channel))
            choices[(purpose, channel)] = granted
    return choices


def consent_history(person: User) -> QuerySet[ConsentRecord]:
    return (
        ConsentRecord.objects.filter(person=person)
        .select_related("policy_version")
        .order_by("-recorded_at", "-pk")
    )


def policy_current(kind: str) -> PolicyVersion | None:
    return (
        PolicyVersion.objects.filter(kind=kind, published_at__isnull=False)
        .order_by("-published_at", "-pk")
        .first()
    )


def policy_versions(kind: str) -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.filter(kind=kind, published_at__isnull=False).order_by(
        "-published_at", "-pk"
    )


def processing_purposes() -> QuerySet[ProcessingPurpose]:
    return ProcessingPurpose.objects.order_by("order", "pk")


def cookie_choice(request: HttpRequest) -> str:
    """'accepted', 'rejected' or '' (not chosen yet). Global Privacy Control
    (`Sec-GPC: 1`) counts as a rejection."""
    if request.headers.get("Sec-GPC") == "1":
        return "rejected"
    value = request.COOKIES.get(COOKIE_NAME, "")
    return value if value in ("accepted", "rejected") else ""


def analytics_allowed(request: HttpRequest) -> bool:
    if cookie_choice(request) != "accepted":
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return can_contact(user, "web", Purpose.ANALYTICS)
    return True


TEAM_NOTES = {
    "booking": "Bookings, places, cancellations, attendance, certificates and "
    "payments.",
    "funding": "Funding requests, apprenticeship and other applications, invoices "
    "and payments of funding.",
    "data_protection": "Your personal data: a copy of it, corrections, erasure, "
    "restricting or objecting to its use, and complaints about how we use it.",
}


def contact_points() -> list[dict]:
    """Each team's contact details, in the page's order: a staff-entered row,
    or the settings' fallback for a team without one. One query."""
    from django.conf import settings

    from .models import ContactPoint

    rows = {c.team: c for c in ContactPoint.objects.all()}
    out = []
    for team, label in ContactPoint.Team.choices:
        row = rows.get(team)
        out.append(
            {
                "team": team,
                "name": label,
                "note": (row.note if row and row.note else TEAM_NOTES[team]),
                "email": row.email if row else settings.CONTACT_EMAIL,
                "phone": row.phone if row else settings.CONTACT_PHONE,
                "address": row.address if row else settings.CONTACT_ADDRESS,
                "hours": row.hours if row else "",
            }
        )
    return out
