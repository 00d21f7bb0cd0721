"""Reads about disclosures and transmissions that pages, the export and admin
share. What the person may see never includes a withheld disclosure."""

from django.db.models import Q, QuerySet

from accounts.models import User

from .models import Disclosure, Transmission


def disclosures_for_person(*, person: User) -> QuerySet[Disclosure]:
    """Disclosures about the person that they may see: every one naming them,
    logged per person or recorded about several, except the withheld ones."""
    return Disclosure.objects.filter(
        pk__in=Disclosure.objects.filter(Q(person=person) | Q(people=person)).values(
            "pk"
        ),
        withheld_at__isnull=True,
    ).order_by("-disclosed_at", "-pk")


def transmissions_for_person(*, person: User) -> QuerySet[Transmission]:
    return Transmission.objects.filter(person=person).order_by("-created_at", "-pk")


def transmission_get(*, token: str) -> Transmission | None:
    from .disclosures import hash_token

    if not token:
        return None
    return Transmission.objects.filter(token_hash=hash_token(token)).first()
