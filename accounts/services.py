"""Writes for people, their profiles and organisations.

Every function here owns its transaction; callers pass plain values.
"""

from django.db import transaction

from .models import Organisation, Profile, User


class AccountsError(Exception):
    """A refusal whose message is safe to show to the person."""


def profile_for(user: User) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def find_or_create_organisation(name: str) -> Organisation:
    name = " ".join(name.split())
    existing = Organisation.objects.filter(name__iexact=name).first()
    if existing:
        return existing
    return Organisation.objects.create(name=name)


@transaction.atomic
def update_profile(
    user: User,
    *,
    first_name: str,
    last_name: str,
    organisation: Organisation | None = None,
    new_organisation_name: str = "",
    **fields,
) -> Profile:
    """Save the person's name and profile; a named new workplace is created once."""
    user.first_name = first_name.strip()
    user.last_name = last_name.strip()
    user.save(update_fields=["first_name", "last_name"])
    profile = profile_for(user)
    if new_organisation_name.strip():
        organisation = find_or_create_organisation(new_organisation_name)
    profile.organisation = organisation
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.save()
    return profile


@transaction.atomic
def update_equality_data(
    user: User,
    *,
    gender: str,
    year_of_birth: int | None,
    year_of_birth_withheld: bool,
    ethnicity: str,
    disability: str,
) -> Profile:
    profile = profile_for(user)
    profile.gender = gender
    profile.year_of_birth = year_of_birth
    profile.year_of_birth_withheld = year_of_birth_withheld
    profile.ethnicity = ethnicity
    profile.disability = disability
    profile.save()
    return profile
