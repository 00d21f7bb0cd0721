"""Closing an account, which is not erasure: sign-in stops, marketing stops,
future places pass to the next person waiting and no more mail goes out, but
the training record, transactions and the rest are kept for the retention
period, during which staff may reopen the account on request.

A person closes their own account at once. The data-protection lead closes one
(when the person's choices make it impossible to keep) with a reason the person
is told by mail before it takes effect, `ACCOUNT_CLOSURE_NOTICE_DAYS` later
(`close_due_accounts`, a periodic task). Every function locks the account row,
so a double submit or two workers never close, reopen or mail twice; the
database allows one live closure per person.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config import outbox
from privacy.services import audit

from ..models import AccountClosure, User

log = logging.getLogger(__name__)

# Closing or reopening someone else's account is the data-protection lead's:
# the same permission as restricting processing.
CLOSE_PERMISSION = "privacy.restrict_processing"


def _error(message: str) -> Exception:
    from . import AccountsError

    return AccountsError(message)


def _locked(person: User) -> User:
    return User.objects.select_for_update(of=("self",)).get(pk=person.pk)


def _live_closure(person: User) -> AccountClosure | None:
    return (
        AccountClosure.objects.select_for_update()
        .filter(person=person, cancelled_at__isnull=True, reopened_at__isnull=True)
        .first()
    )


def _mail_on_commit(closure: AccountClosure, event: str) -> None:
    from ..tasks import send_closure_mail

    send_closure_mail.delay_on_commit(closure.pk, event)


def _refusal_to_close(person: User) -> str:
    if person.erased_at is not None:
        return _("This account has been erased.")
    if person.closed_at is not None:
        return _("This account is already closed.")
    return ""


def close_own_account(person: User) -> AccountClosure:
    """The person closes their own account, at once. Closing a closed account
    changes nothing and mails nothing."""
    with transaction.atomic():
        person = _locked(person)
        problem = _refusal_to_close(person)
        if problem:
            raise _error(problem)
        if person.is_privileged:
            # A back-office account ends through deactivation (four eyes).
            raise _error(
                _("This is a staff account: ask a superuser to deactivate it instead.")
            )
        closure = _live_closure(person)
        if closure is None:
            closure = AccountClosure.objects.create(
                person=person,
                asked_by=person,
                reason=_("You asked us to close your account."),
                takes_effect_at=timezone.now(),
            )
        else:
            # A closure staff had scheduled now happens at the person's wish.
            closure.takes_effect_at = timezone.now()
            closure.save(update_fields=["takes_effect_at"])
        audit("account closure asked for", person=person, by=person)
        _carry_out(closure, person, by=person)
        return closure


def schedule_account_closure(person: User, *, reason: str, by: User) -> AccountClosure:
    """Staff close an account the person's choices make impossible to keep:
    the person is mailed the reason now and the closure takes effect after
    `ACCOUNT_CLOSURE_NOTICE_DAYS`."""
    reason = " ".join(reason.split())[:500]
    if not reason:
        raise _error(_("Give the reason: the person is told it."))
    if not by.has_perm(CLOSE_PERMISSION):
        raise _error(_("Only the data-protection lead may close an account."))
    with transaction.atomic():
        person = _locked(person)
        problem = _refusal_to_close(person)
        if problem:
            raise _error(problem)
        if person.is_privileged:
            raise _error(
                _(
                    "This is a staff account: deactivate it instead (a second "
                    "approver is needed)."
                )
            )
        if person.pk == by.pk:
            raise _error(_("You cannot close your own account from here."))
        if _live_closure(person) is not None:
            raise _error(_("A closure of this account is already scheduled."))
        closure = AccountClosure.objects.create(
            person=person,
            asked_by=by,
            by_staff=True,
            reason=reason,
            takes_effect_at=timezone.now()
            + timezone.timedelta(days=settings.ACCOUNT_CLOSURE_NOTICE_DAYS),
        )
        # The reason is on the closure (exported and erased with the person),
        # not in the audit trail, which holds no personal data.
        audit(
            "account closure scheduled",
            person=person,
            by=by,
            detail=f"takes effect {closure.takes_effect_at:%Y-%m-%d %H:%M}",
        )
        _mail_on_commit(closure, "notice")
        return closure


def cancel_scheduled_closure(person: User, *, by: User) -> AccountClosure:
    """Staff withdraw a closure that has not yet taken effect (the person
    changed their choices); the person is told."""
    if not by.has_perm(CLOSE_PERMISSION):
        raise _error(_("Only the data-protection lead may change a closure."))
    with transaction.atomic():
        person = _locked(person)
        closure = _live_closure(person)
        if closure is None or closure.closed_at is not None:
            raise _error(_("No closure of this account is waiting to take effect."))
        closure.cancelled_at = timezone.now()
        closure.save(update_fields=["cancelled_at"])
        audit("account closure withdrawn", person=person, by=by)
        _mail_on_commit(closure, "cancelled")
        return closure


def close_due_accounts() -> int:
    """Carry out each scheduled closure whose notice period has run. Safe to
    run twice: each is read again under its account's lock."""
    scheduled = AccountClosure.objects.filter(
        closed_at__isnull=True, cancelled_at__isnull=True, reopened_at__isnull=True
    )
    # A notice whose mail task was lost (the broker was down) goes now; its
    # notice period then starts now.
    for pk in scheduled.filter(
        by_staff=True, notice_mailed_at__isnull=True
    ).values_list("pk", flat=True):
        try:
            send_closure_mail(pk, "notice")
        except Exception:  # tried again at the next run
            log.exception("Closure notice %s not sent", pk)
    send_missed_closure_mail()
    due = list(
        scheduled.filter(takes_effect_at__lte=timezone.now())
        .exclude(by_staff=True, notice_mailed_at__isnull=True)
        .values_list("pk", "person_id")
    )
    closed = 0
    for pk, person_id in due:
        with transaction.atomic():
            person = User.objects.select_for_update(of=("self",)).get(pk=person_id)
            closure = _live_closure(person)
            if closure is None or closure.pk != pk or closure.closed_at is not None:
                continue
            if person.erased_at is not None:
                continue
            _carry_out(closure, person, by=closure.asked_by)
            closed += 1
    return closed


def _carry_out(closure: AccountClosure, person: User, *, by: User | None) -> None:
    """The closure itself, under the account's lock."""
    from consent.models import MARKETING_PURPOSES, ConsentRecord
    from consent.selectors import current_choices
    from consent.services import record_consent
    from privacy.registry import on_closure

    now = timezone.now()
    person.is_active = False
    person.closed_at = now
    person.save(update_fields=["is_active", "closed_at"])
    closure.closed_at = now
    closure.save(update_fields=["closed_at"])
    own = by is not None and by.pk == person.pk
    source = ConsentRecord.Source.PREFERENCES if own else ConsentRecord.Source.STAFF
    for (purpose, channel), granted in current_choices(person).items():
        if granted and purpose in MARKETING_PURPOSES:
            record_consent(
                person,
                purpose,
                channel,
                False,
                source,
                by=None if own else by,
                note="Account closed.",
            )
    outbox.cancel_pending_to(person.email, closed=True)
    for apply in on_closure().values():
        apply(person, by)
    audit("account closed", person=person, by=by)
    _mail_on_commit(closure, "closed")


def reopen_account(person: User, *, by: User) -> AccountClosure:
    """Staff reopen a closed account on the person's request, within the
    retention period of closed accounts. Marketing stays off until the person
    chooses again; cancelled places are not restored."""
    if not by.has_perm(CLOSE_PERMISSION):
        raise _error(_("Only the data-protection lead may reopen an account."))
    with transaction.atomic():
        person = _locked(person)
        if person.erased_at is not None:
            raise _error(_("This account has been erased and cannot be reopened."))
        closure = _live_closure(person)
        if person.closed_at is None or closure is None:
            raise _error(_("This account is not closed."))
        if person.closed_at < _reopen_cutoff():
            raise _error(
                _("This account was closed too long ago to be reopened: erase it.")
            )
        person.is_active = True
        person.closed_at = None
        person.save(update_fields=["is_active", "closed_at"])
        closure.reopened_at = timezone.now()
        closure.reopened_by = by
        closure.save(update_fields=["reopened_at", "reopened_by"])
        audit("account reopened", person=person, by=by)
        _mail_on_commit(closure, "reopened")
        return closure


def _reopen_cutoff():
    years = settings.PRIVACY_RETENTION["closed_accounts_years"]
    return timezone.now() - timezone.timedelta(days=365 * years)


def erase_long_closed_accounts() -> int:
    """Retention: accounts closed longer than `RETENTION_CLOSED_ACCOUNTS_YEARS`
    are erased (as any erasure: anonymous rows keep counts and the ledger)."""
    from privacy.services import erase_person

    erased = 0
    for person in User.objects.filter(
        closed_at__lt=_reopen_cutoff(), erased_at__isnull=True
    ):
        erase_person(person)
        erased += 1
    return erased


MAIL_SUBJECTS = {
    "notice": "We are going to close your account",
    "closed": "Your account is closed",
    "cancelled": "We will not close your account",
    "reopened": "Your account has been reopened",
}
MAILED_AT = {
    "notice": "notice_mailed_at",
    "closed": "closed_mailed_at",
    "cancelled": "cancelled_mailed_at",
    "reopened": "reopened_mailed_at",
}


# When each step after the notice happened: its mail is owed from then.
HAPPENED_AT = {
    "closed": "closed_at",
    "cancelled": "cancelled_at",
    "reopened": "reopened_at",
}


def send_missed_closure_mail(*, older_than_seconds: int = 300) -> int:
    """Send the "closed", "cancelled" and "reopened" mails whose task was lost
    (the broker was down) or gave up (the mail server was down for longer
    than its retries), for steps taken more than `older_than_seconds` ago and
    within the outbox horizon (OUTBOX_RETRY_HORIZON_HOURS); each is still sent
    at most once (`send_closure_mail` locks and marks the row). Runs with
    `close_due_accounts`, hourly."""
    now = timezone.now()
    sent = 0
    for event, happened in HAPPENED_AT.items():
        owed = AccountClosure.objects.filter(
            **{
                f"{happened}__lte": now
                - timezone.timedelta(seconds=older_than_seconds),
                f"{happened}__gte": now - outbox.retry_horizon(),
                f"{MAILED_AT[event]}__isnull": True,
            }
        ).values_list("pk", flat=True)
        for pk in list(owed):
            try:
                sent += send_closure_mail(pk, event)
            except Exception:  # tried again at the next run, until the horizon
                log.exception("Closure mail %s for %s not sent", event, pk)
    return sent


def send_closure_mail(closure_id: int, event: str) -> bool:
    """Send the mail for one step of a closure, once: the closure row is locked
    and marked in the same transaction. True when sent now."""
    from django.core.mail import EmailMessage
    from django.template.loader import render_to_string

    field = MAILED_AT[event]
    with transaction.atomic():
        closure = (
            AccountClosure.objects.select_for_update(of=("self",))
            .select_related("person")
            .filter(pk=closure_id)
            .first()
        )
        if closure is None or getattr(closure, field) is not None:
            return False
        person = closure.person
        if person.erased_at is not None:
            return False
        body = render_to_string(
            f"accounts/email/closure_{event}.txt",
            {
                "person": person,
                "closure": closure,
                "site_name": settings.SITE_NAME,
                "site_url": settings.SITE_URL,
            },
        )
        EmailMessage(subject=MAIL_SUBJECTS[event], body=body, to=[person.email]).send(
            fail_silently=False
        )
        now = timezone.now()
        setattr(closure, field, now)
        changed = [field]
        if event == "notice":
            # The person always has the whole notice period from the mail.
            earliest = now + timezone.timedelta(
                days=settings.ACCOUNT_CLOSURE_NOTICE_DAYS
            )
            if closure.takes_effect_at < earliest - timezone.timedelta(hours=1):
                closure.takes_effect_at = earliest
                changed.append("takes_effect_at")
        closure.save(update_fields=changed)
        return True
