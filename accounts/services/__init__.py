"""Writes for people, their profiles and organisations, and the four-eyes rule
for removing a staff or superuser account.

Every function here owns its transaction; callers pass plain values. The
four-eyes functions lock the account row, so two people acting at once cannot
both approve, or approve a request that is being rejected.
"""

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from privacy.services import audit

from ..four_eyes import MANAGE_USERS, second_approver_refusal
from ..models import Membership, Organisation, Profile, User
from ..selectors import organisation_named


class AccountsError(Exception):
    """A refusal whose message is safe to show to the person."""


def profile_for(user: User) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def find_or_create_organisation(name: str) -> Organisation:
    existing = organisation_named(name)
    if existing:
        return existing
    return Organisation.objects.create(name=" ".join(name.split()))


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
    if organisation != profile.organisation:
        _change_workplace(user, old=profile.organisation, new=organisation)
    profile.organisation = organisation
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.save()
    return profile


@transaction.atomic
def complete_profile(
    user: User,
    *,
    job_title: str,
    organisation: Organisation | None = None,
    new_organisation_name: str = "",
) -> Profile:
    """The "Complete your profile" step: workplace (asks to join it, as a
    change of workplace always does) and job title."""
    profile = profile_for(user)
    if new_organisation_name.strip():
        organisation = find_or_create_organisation(new_organisation_name)
    if organisation != profile.organisation:
        _change_workplace(user, old=profile.organisation, new=organisation)
        profile.organisation = organisation
    profile.job_title = job_title.strip()
    profile.save(update_fields=["organisation", "job_title", "updated_at"])
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


# --- membership of an organisation ---------------------------------------------


def _change_workplace(
    user: User, *, old: Organisation | None, new: Organisation | None
) -> None:
    """Choosing a workplace asks to join it; leaving one ends the membership
    there unless the person holds a role in it (roles are ended by an approver
    or our staff, who gave them)."""
    if old is not None:
        Membership.objects.filter(
            person=user,
            organisation=old,
            is_booker=False,
            is_approver=False,
            is_finance_contact=False,
        ).delete()
    if new is not None:
        request_membership(user, new)


def set_workplace(user: User, organisation: Organisation | None) -> Profile:
    """Choose the person's workplace (at sign-up, say): asks to join it."""
    with transaction.atomic():
        profile = profile_for(user)
        if organisation != profile.organisation:
            _change_workplace(user, old=profile.organisation, new=organisation)
            profile.organisation = organisation
            profile.save(update_fields=["organisation", "updated_at"])
        return profile


def request_membership(user: User, organisation: Organisation) -> Membership:
    """Ask to join an organisation. Idempotent: a second request changes nothing."""
    membership, _created = Membership.objects.get_or_create(
        person=user, organisation=organisation
    )
    return membership


def _may_manage_members(by: User, organisation: Organisation) -> bool:
    if by.is_staff and by.has_perm("accounts.change_membership"):
        return True
    return Membership.objects.filter(
        person=by,
        organisation=organisation,
        status=Membership.Status.CONFIRMED,
        is_approver=True,
    ).exists()


def confirm_membership(membership: Membership, *, by: User) -> Membership:
    """An approver of the organisation (or our staff) confirms that the person
    works there. Until then nothing is charged to the organisation for them."""
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update()
            .select_related("organisation", "person")
            .get(pk=membership.pk)
        )
        if not _may_manage_members(by, membership.organisation):
            raise AccountsError(
                _("Only an approver of %(org)s can confirm its members.")
                % {"org": membership.organisation}
            )
        if membership.confirmed:
            raise AccountsError(_("This membership is already confirmed."))
        if membership.person.erased_at is not None or not membership.person.is_active:
            raise AccountsError(_("This person no longer has an account."))
        if not EmailAddress.objects.filter(
            user=membership.person, verified=True
        ).exists():
            # Anyone can type a colleague's address at sign-up; only someone
            # who proved it is theirs can be confirmed as working there.
            raise AccountsError(
                _("%(person)s has not confirmed their email address yet.")
                % {"person": membership.person}
            )
        membership.status = Membership.Status.CONFIRMED
        membership.confirmed_at = timezone.now()
        membership.confirmed_by = by
        membership.save(update_fields=["status", "confirmed_at", "confirmed_by"])
        audit(
            "membership.confirmed",
            person=membership.person,
            by=by,
            detail=f"organisation {membership.organisation_id}",
        )
        return membership


def decline_membership(membership: Membership, *, by: User) -> None:
    """The person does not work there (or no longer does): the request, or the
    membership and every role in it, ends. Their workplace is cleared too, so
    they can choose again."""
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update()
            .select_related("organisation", "person")
            .get(pk=membership.pk)
        )
        if not _may_manage_members(by, membership.organisation):
            raise AccountsError(
                _("Only an approver of %(org)s can remove its members.")
                % {"org": membership.organisation}
            )
        if membership.person_id == by.pk and membership.is_approver:
            raise AccountsError(
                _("You cannot remove yourself as an approver. Ask our staff.")
            )
        staff = by.is_staff and by.has_perm("accounts.change_membership")
        if membership.holds_a_role and not staff:
            # Roles are given by our staff; they end them too.
            raise AccountsError(
                _("%(person)s holds a role in %(org)s. Ask our staff to end it.")
                % {"person": membership.person, "org": membership.organisation}
            )
        Profile.objects.filter(
            user=membership.person, organisation=membership.organisation
        ).update(organisation=None)
        audit(
            "membership.ended",
            person=membership.person,
            by=by,
            detail=f"organisation {membership.organisation_id}",
        )
        membership.delete()


# --- four eyes: deactivating a staff or superuser account ------------------------
# The rule itself is in accounts/four_eyes.py, shared with erasure.


def _locked(person: User) -> User:
    return (
        User.objects.select_for_update(of=("self",))
        .select_related("deactivation_requested_by")
        .get(pk=person.pk)
    )


def _clear_deactivation_request(person: User) -> None:
    person.deactivation_requested_by = None
    person.deactivation_requested_at = None


@transaction.atomic
def request_deactivation(person: User, *, by: User) -> User:
    """Record that `by` asks for a staff or superuser account to be
    deactivated; the account stays active until a second person approves."""
    person = _locked(person)
    if not person.is_active:
        raise AccountsError(_("This account is already deactivated."))
    if not person.is_privileged:
        raise AccountsError(
            _(
                "This is not a staff account: untick Active on its page to "
                "deactivate it; no second approver is needed."
            )
        )
    if person.deactivation_pending:
        raise AccountsError(
            _("Its deactivation is already awaiting a second approver.")
        )
    if not by.has_perm(MANAGE_USERS):
        raise AccountsError(_("You do not hold the permission to ask for this."))
    person.deactivation_requested_by = by
    person.deactivation_requested_at = timezone.now()
    person.deactivation_refusal_reason = ""
    person.save(
        update_fields=[
            "deactivation_requested_by",
            "deactivation_requested_at",
            "deactivation_refusal_reason",
        ]
    )
    audit(
        "deactivation requested",
        person=person,
        by=by,
        detail="awaiting a second approver",
    )
    return person


@transaction.atomic
def approve_deactivation(person: User, *, by: User) -> User:
    """The second person approves: the account is deactivated (it can no
    longer sign in, and its sessions end at their next request)."""
    person = _locked(person)
    if not person.deactivation_pending:
        raise AccountsError(_("Nobody has asked for this account to be deactivated."))
    requester = person.deactivation_requested_by
    problem = second_approver_refusal(
        person, requested_by=requester, approver=by, perm=MANAGE_USERS
    )
    if problem:
        raise AccountsError(problem)
    person.is_active = False
    _clear_deactivation_request(person)
    person.save(
        update_fields=[
            "is_active",
            "deactivation_requested_by",
            "deactivation_requested_at",
        ]
    )
    audit(
        "deactivation approved",
        person=person,
        by=by,
        detail=f"asked for by user:{requester.pk}; account deactivated",
    )
    return requester


@transaction.atomic
def reject_deactivation(person: User, *, by: User, reason: str) -> str:
    """Reject (a second person) or cancel (the one who asked) a pending
    deactivation, with the reason; the account stays as it is. Returns
    "cancelled" or "rejected"."""
    reason = " ".join(reason.split())[:500]
    if not reason:
        raise AccountsError(_("Give the reason for rejecting or cancelling it."))
    person = _locked(person)
    if not person.deactivation_pending:
        raise AccountsError(_("Nobody has asked for this account to be deactivated."))
    if not by.has_perm(MANAGE_USERS):
        raise AccountsError(_("You do not hold the permission to reject this."))
    outcome = (
        "cancelled" if person.deactivation_requested_by_id == by.pk else "rejected"
    )
    asked_by = person.deactivation_requested_by_id
    _clear_deactivation_request(person)
    person.deactivation_refusal_reason = reason
    person.save(
        update_fields=[
            "deactivation_requested_by",
            "deactivation_requested_at",
            "deactivation_refusal_reason",
        ]
    )
    # The reason stays on the account (erased with it), not in the audit trail.
    audit(
        f"deactivation {outcome}",
        person=person,
        by=by,
        detail=f"asked for by user:{asked_by}" if asked_by else "",
    )
    return outcome


def record_activity_change(person: User, *, by: User) -> None:
    """Audit a change of `is_active` made on the account's page (by a
    superuser, or by someone with the permission for a learner's account);
    any pending request to deactivate it is then settled."""
    if person.deactivation_pending and not person.is_active:
        _clear_deactivation_request(person)
        person.save(
            update_fields=["deactivation_requested_by", "deactivation_requested_at"]
        )
    audit(
        "account reactivated" if person.is_active else "account deactivated",
        person=person,
        by=by,
        detail="on the account's page",
    )


# Closing and reopening an account (a subdomain of its own).
from .closure import (  # noqa: E402
    cancel_scheduled_closure,
    close_due_accounts,
    close_own_account,
    erase_long_closed_accounts,
    reopen_account,
    schedule_account_closure,
)

__all__ = [
    "AccountsError",
    "approve_deactivation",
    "cancel_scheduled_closure",
    "close_due_accounts",
    "close_own_account",
    "confirm_membership",
    "decline_membership",
    "erase_long_closed_accounts",
    "find_or_create_organisation",
    "profile_for",
    "record_activity_change",
    "reject_deactivation",
    "reopen_account",
    "request_deactivation",
    "request_membership",
    "schedule_account_closure",
    "set_workplace",
    "update_equality_data",
    "update_profile",
]
