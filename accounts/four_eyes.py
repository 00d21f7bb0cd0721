"""The four-eyes rule for removing a staff or superuser account.

One person alone never erases or deactivates a staff or superuser account,
unless that person is a superuser acting on someone else's account. Otherwise
one person asks and a second, different person approves; the account's owner
may not approve their own, and a superuser's account needs a superuser as the
one who asks or the one who approves. accounts.services applies it to
deactivation, privacy.services to erasure.

Pure rules over users and their permissions: no writes, no imports above
accounts.models, so both apps can use it.
"""

from django.utils.translation import gettext as _

from .models import User

# Who may ask for, approve or reject a staff account's deactivation.
MANAGE_USERS = "accounts.change_user"


def may_act_alone_on(person: User, *, by: User) -> bool:
    """Whether `by` alone may erase or deactivate `person`'s account."""
    if not person.is_privileged:
        return True
    return by.is_superuser and by.pk != person.pk


def second_approver_refusal(
    person: User, *, requested_by: User | None, approver: User, perm: str
) -> str:
    """Why `approver` cannot be the second person for `requested_by`'s request
    about `person`'s account, or "" when they can. `perm` is the permission
    both must hold now (a role taken away since the request voids it)."""
    if requested_by is None:
        return _("The person who asked is no longer on record: ask again.")
    if approver.pk == requested_by.pk:
        return _("You asked for this yourself: a different person must approve it.")
    if approver.pk == person.pk:
        return _("You cannot approve this for your own account.")
    if not approver.has_perm(perm):
        return _("You do not hold the permission to approve this.")
    if not requested_by.has_perm(perm):
        return _(
            "The person who asked no longer holds the permission to ask: ask again."
        )
    if person.is_superuser and not (approver.is_superuser or requested_by.is_superuser):
        return _(
            "This is a superuser's account: a superuser must ask for this or "
            "approve it."
        )
    return ""
