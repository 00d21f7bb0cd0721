"""What the accounts app holds about a person, and how it is exported and erased."""

import datetime as dt

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from privacy.registry import Category, not_personal, register, register_retention

from .models import (
    AccountClosure,
    FormSubmission,
    Membership,
    Organisation,
    Profile,
    User,
)

PROFILE_FIELDS = [
    "job_title",
    "phone",
    "address_line_1",
    "address_line_2",
    "town",
    "postcode",
    "gender",
    "year_of_birth",
    "year_of_birth_withheld",
    "ethnicity",
    "disability",
]


def export_user(person: User) -> list[dict]:
    return [
        {
            "email": person.email,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "date_joined": person.date_joined,
            "last_login": person.last_login,
            "processing_restricted": person.processing_restricted,
            "closed_at": person.closed_at,
            "objects_to_direct_marketing": person.objects_to_direct_marketing,
            "imported_from": person.import_source,
            "imported_at": person.imported_at,
            "why_a_request_to_deactivate_was_refused": (
                person.deactivation_refusal_reason
            ),
        }
    ]


def erase_user(person: User) -> None:
    person.email = f"erased-{person.pk}@erased.invalid"
    person.first_name = ""
    person.last_name = ""
    person.set_unusable_password()
    person.is_active = False
    person.is_staff = False
    person.is_superuser = False
    person.last_login = None
    person.import_source = ""
    person.deactivation_refusal_reason = ""
    person.deactivation_requested_by = None  # settled: the account is gone
    person.deactivation_requested_at = None
    person.erased_at = person.erased_at or timezone.now()
    person.save()
    person.groups.clear()
    person.user_permissions.clear()
    EmailAddress.objects.filter(user=person).delete()
    Authenticator.objects.filter(user=person).delete()
    # Every session the person had ends with this: Django checks each session
    # against the password hash (now unusable) and refuses inactive accounts,
    # so there is no need to scan the session table.


def export_profile(person: User) -> list[dict]:
    profile = Profile.objects.filter(user=person).select_related("organisation").first()
    if profile is None:
        return []
    row = {name: getattr(profile, name) for name in PROFILE_FIELDS}
    row["workplace"] = profile.organisation.name if profile.organisation else ""
    return [row]


def erase_profile(person: User) -> None:
    Profile.objects.filter(user=person).update(
        organisation=None,
        job_title="",
        phone="",
        address_line_1="",
        address_line_2="",
        town="",
        postcode="",
        gender="",
        year_of_birth=None,
        year_of_birth_withheld=False,
        ethnicity="",
        disability="",
    )


def export_email_addresses(person: User) -> list[dict]:
    return list(
        EmailAddress.objects.filter(user=person).values("email", "verified", "primary")
    )


register(
    Category(
        name="account",
        model=User,
        # deactivation_requested_by is a staff member's reference, like a
        # request's completed_by: it names who acted, not data about the person.
        fields=[
            "email",
            "first_name",
            "last_name",
            "password",
            "last_login",
            "deactivation_refusal_reason",
        ],
        export=export_user,
        erase=erase_user,
        withheld={
            "password": "Only a one-way hash of your password is stored; it is "
            "of no use to you and would weaken your account if it leaked.",
        },
        note="The account row is kept, anonymised and unable to sign in, so that "
        "anonymous bookings and transactions still add up.",
    )
)
register(
    Category(
        name="profile",
        model=Profile,
        fields=[*PROFILE_FIELDS, "organisation"],
        export=export_profile,
        erase=erase_profile,
        note="Every profile and equality field is cleared.",
    )
)
register(
    Category(
        name="email_addresses",
        model=EmailAddress,
        fields=["email"],
        export=export_email_addresses,
        erase=lambda person: None,
        note="Deleted with the account's sign-in details.",
    )
)
not_personal(
    Organisation,
    ["name", "area", "purchase_order", "email_domain"],
    reason="A workplace and its settings, not a person.",
)


def export_memberships(person: User) -> list[dict]:
    """The organisations the person belongs to and the roles they hold there.
    What they did for others in those roles is exported by bookings
    ("actions_for_others")."""
    rows: list[dict] = []
    for m in Membership.objects.filter(person=person).select_related(
        "organisation", "confirmed_by"
    ):
        rows.append(
            {
                "organisation": m.organisation.name,
                "status": m.status,
                "is_booker": m.is_booker,
                "is_approver": m.is_approver,
                "is_finance_contact": m.is_finance_contact,
                "asked_to_join_at": m.requested_at,
                "confirmed_at": m.confirmed_at,
                "confirmed_by": str(m.confirmed_by) if m.confirmed_by else "",
            }
        )
    return rows


register(
    Category(
        name="organisation_memberships",
        model=Membership,
        fields=["status", "is_booker", "is_approver", "is_finance_contact"],
        export=export_memberships,
        erase=lambda person: Membership.objects.filter(person=person).delete(),
        note="Memberships and roles are deleted; invoices the organisation "
        "holds are kept without the person's name.",
    )
)


def export_sign_in_providers(person: User) -> list[dict]:
    return [
        {
            "provider": account.provider,
            "uid": account.uid,
            "linked_at": account.date_joined,
            "last_sign_in": account.last_login,
            "extra_data": account.extra_data,
        }
        for account in SocialAccount.objects.filter(user=person).order_by("pk")
    ]


register(
    Category(
        name="sign_in_providers",
        model=SocialAccount,
        # extra_data is what the provider sent at the last sign-in: the ID
        # token's and userinfo's claims (name, email, email_verified...).
        fields=["uid", "extra_data"],
        export=export_sign_in_providers,
        # Deleting the link deletes any token with it (none are stored:
        # SOCIALACCOUNT_STORE_TOKENS is off).
        erase=lambda person: SocialAccount.objects.filter(user=person).delete(),
        note="Work accounts linked for single sign-on, with what the provider "
        "sent at the last sign-in; deleted on erasure.",
    )
)


def remove_unverified_accounts() -> int:
    """Accounts never verified within the retention period are deleted, unless
    the person has bookings or any record that must be kept."""
    days = settings.PRIVACY_RETENTION["unverified_accounts_days"]
    cutoff = timezone.now() - dt.timedelta(days=days)
    # Only self-service sign-ups that never confirmed their address; people added
    # by staff have no unverified address row and are never swept.
    stale = (
        User.objects.filter(
            date_joined__lt=cutoff,
            is_staff=False,
            last_login__isnull=True,
            bookings__isnull=True,
            emailaddress__verified=False,
        )
        .exclude(emailaddress__verified=True)
        .distinct()
    )
    removed = 0
    for user in stale:
        # Someone with a record the law or a funder needs kept (a funding
        # request, a ledger row: PROTECT) is not a stale sign-up: skip them
        # rather than fail the whole run.
        try:
            with transaction.atomic():
                erase_profile(user)
                Profile.objects.filter(user=user).delete()
                EmailAddress.objects.filter(user=user).delete()
                user.delete()
        except ProtectedError:
            continue
        removed += 1
    return removed


register_retention("unverified accounts", remove_unverified_accounts)


def export_form_submissions(person: User) -> list[dict]:
    return list(
        FormSubmission.objects.filter(user=person).values(
            "path", "result_url", "messages", "created_at"
        )
    )


register(
    Category(
        name="form_submissions",
        model=FormSubmission,
        fields=["token", "path", "result_url", "messages"],
        export=export_form_submissions,
        withheld={
            "token": "A random value that only lets the form be recognised if "
            "it is sent again; it says nothing about you.",
        },
        erase=lambda person: FormSubmission.objects.filter(user=person).delete(),
        note="Claimed form tokens that stop a double submit doing the work twice; "
        "deleted on erasure and after IDEMPOTENCY_TOKEN_HOURS.",
    )
)


def remove_expired_form_submissions() -> int:
    """A claim is needed only while a resubmission of that form is likely."""
    cutoff = timezone.now() - dt.timedelta(hours=settings.IDEMPOTENCY_TOKEN_HOURS)
    removed, _ = FormSubmission.objects.filter(created_at__lt=cutoff).delete()
    return removed


register_retention("form submission tokens", remove_expired_form_submissions)


# --- closed accounts ---------------------------------------------------------


def export_closures(person: User) -> list[dict]:
    return [
        {
            "asked_for_at": c.asked_at,
            "by_our_staff": c.by_staff,
            "reason": c.reason,
            "takes_effect_at": c.takes_effect_at,
            "closed_at": c.closed_at,
            "withdrawn_at": c.cancelled_at,
            "reopened_at": c.reopened_at,
        }
        for c in AccountClosure.objects.filter(person=person)
    ]


register(
    Category(
        name="account_closures",
        model=AccountClosure,
        # asked_by and reopened_by name who acted (the person or our staff).
        fields=["reason"],
        export=export_closures,
        erase=lambda person: AccountClosure.objects.filter(person=person).update(
            reason=""
        ),
        note="Kept as the record that the account was closed; the reason is cleared.",
    )
)


def _erase_long_closed_accounts() -> int:
    from .services import erase_long_closed_accounts

    return erase_long_closed_accounts()


register_retention("closed accounts", _erase_long_closed_accounts)


# --- fields staff may correct for a correction request ------------------------
# A safe list: names, contact details and job title. Email addresses change
# through allauth (verified); equality answers are the person's own to give.

_USER_FIELDS = {"first_name": "First name", "last_name": "Last name"}
_PROFILE_FIELDS = {
    "job_title": "Job title",
    "phone": "Phone number",
    "address_line_1": "Address line 1",
    "address_line_2": "Address line 2",
    "town": "Town or city",
    "postcode": "Postcode",
}


def _read_field(name: str):
    def read(person: User) -> str:
        if name in _USER_FIELDS:
            return getattr(person, name)
        profile = Profile.objects.filter(user=person).first()
        return getattr(profile, name) if profile else ""

    return read


def _write_field(name: str):
    def write(person: User, value: str) -> None:
        from .forms import ProfileForm
        from .services import profile_for

        field = ProfileForm.base_fields[name]
        try:
            value = field.clean(value)
        except Exception as exc:  # a ValidationError, its messages safe to show
            messages = getattr(exc, "messages", None) or [str(exc)]
            raise ValueError(" ".join(str(m) for m in messages)) from exc
        if name == "postcode":
            value = value.upper().strip()
        value = value.strip()
        if name in _USER_FIELDS:
            User.objects.filter(pk=person.pk).update(**{name: value})
            setattr(person, name, value)
        else:
            profile = profile_for(person)
            setattr(profile, name, value)
            profile.save(update_fields=[name, "updated_at"])

    return write


def _register_correctables() -> None:
    from privacy.registry import Correctable, register_correctable

    for name, label in {**_USER_FIELDS, **_PROFILE_FIELDS}.items():
        register_correctable(
            Correctable(
                key=name, label=label, read=_read_field(name), write=_write_field(name)
            )
        )


_register_correctables()
