"""Services for disclosures staff record and for data sent straight to another
organisation (data portability). Kept beside services.py, which passed 400
lines; the rules of both live here.

Disclosures are append-only: after recording, only withholding changes one.
Withholding a disclosure from the person needs four eyes: one data-protection
lead asks (with the exemption and the reason), a second, different one holding
the same permission approves. Until approved the disclosure is NOT withheld:
the person sees it. One person alone may lift a withholding (more openness
needs no second person). Audit entries about a disclosure name the disclosure
("disclosure:42"), never the person, so a withheld one never shows in the
person's own audit export.

A transmission is asked for by the person on "Your data" and sent by a
data-protection lead: the export (`export_person`) is written to private
storage and a mail with a link goes to the recipient through the outbox. The
link's token is made when the mail is built and only its hash is stored; the
link works once, until `TRANSMISSION_LINK_HOURS` after sending.
"""

import hashlib
import logging
import secrets

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from config import outbox

from .models import (
    AuditEvent,
    DataSubjectRequest,
    Disclosure,
    Transmission,
    TransmissionMail,
)
from .services import PrivacyError, audit, complete_request, create_request

log = logging.getLogger(__name__)

# Who may record a disclosure, and ask for, approve or reject its withholding.
RECORD_PERMISSION = "privacy.add_disclosure"
# Who may send a person's data to another organisation.
SEND_PERMISSION = "privacy.export_personal_data"


def _audit_disclosure(
    action: str, disclosure: Disclosure, *, by: User | None, detail: str = ""
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=by,
        action=action,
        subject=f"disclosure:{disclosure.pk}",
        detail=detail[:300],
    )


# --- recording -----------------------------------------------------------------


def record_disclosure(
    *,
    recipient: str,
    recipient_kind: str,
    lawful_basis: str,
    fields: str,
    purpose: str,
    people: list[User] | QuerySet[User],
    report_reference: str = "",
    withhold_exemption: str = "",
    withhold_reason: str = "",
    by: User,
) -> Disclosure:
    """Record what was shared with whom, about the `people` concerned or, for
    an aggregated report naming no one, under a `report_reference`. With an
    exemption and a reason it also asks for the disclosure to be withheld,
    which takes effect only when a second person approves."""
    people = list(people)
    recipient, fields, purpose = (
        " ".join(v.split()) for v in (recipient, fields, purpose)
    )
    report_reference = report_reference.strip()
    if not (recipient and fields and purpose):
        raise PrivacyError(_("Say who it was shared with, what, and why."))
    if not people and not report_reference:
        raise PrivacyError(
            _(
                "Choose the people it was about, or give the reference of the "
                "aggregated report that names no one."
            )
        )
    if people and report_reference:
        raise PrivacyError(
            _(
                "A disclosure names either the people it was about or a report "
                "that names no one, not both."
            )
        )
    if any(p.erased_at is not None for p in people):
        raise PrivacyError(_("One of the people chosen has been erased."))
    if not by.has_perm(RECORD_PERMISSION):
        raise PrivacyError(_("You do not hold the permission to record this."))
    with transaction.atomic():
        disclosure = Disclosure.objects.create(
            recipient=recipient[:200],
            recipient_kind=recipient_kind,
            lawful_basis=lawful_basis,
            fields=fields[:300],
            purpose=purpose[:300],
            report_reference=report_reference[:100],
            recorded_by=by,
        )
        disclosure.people.set(people)
        _audit_disclosure(
            "disclosure recorded",
            disclosure,
            by=by,
            detail=f"{recipient_kind}; {len(people)} people"
            if people
            else f"{recipient_kind}; aggregated report",
        )
        if withhold_exemption or withhold_reason.strip():
            _ask_to_withhold(
                disclosure, exemption=withhold_exemption, reason=withhold_reason, by=by
            )
    return disclosure


def _locked(disclosure: Disclosure) -> Disclosure:
    return (
        Disclosure.objects.select_for_update(of=("self",))
        .select_related("withhold_requested_by")
        .get(pk=disclosure.pk)
    )


def _ask_to_withhold(
    disclosure: Disclosure, *, exemption: str, reason: str, by: User
) -> None:
    reason = " ".join(reason.split())[:500]
    if exemption not in Disclosure.Exemption.values:
        raise PrivacyError(_("Choose the exemption it is withheld under."))
    if not reason:
        raise PrivacyError(_("Give the reason it must be withheld."))
    if disclosure.is_withheld:
        raise PrivacyError(_("This disclosure is already withheld."))
    if disclosure.awaiting_second_approver:
        raise PrivacyError(_("Withholding it is already awaiting a second approver."))
    if not by.has_perm(RECORD_PERMISSION):
        raise PrivacyError(_("You do not hold the permission to ask for this."))
    disclosure.withhold_exemption = exemption
    disclosure.withhold_reason = reason
    disclosure.withhold_requested_by = by
    disclosure.withhold_requested_at = timezone.now()
    disclosure.withhold_refusal_reason = ""
    disclosure.save()
    _audit_disclosure(
        "withholding requested",
        disclosure,
        by=by,
        detail=f"{exemption}; awaiting a second approver",
    )


def request_withholding(
    disclosure: Disclosure, *, exemption: str, reason: str, by: User
) -> None:
    """Ask for a recorded disclosure to be withheld; the person still sees it
    until a second person approves."""
    with transaction.atomic():
        _ask_to_withhold(_locked(disclosure), exemption=exemption, reason=reason, by=by)


def withholding_approval_refusal(disclosure: Disclosure, *, by: User) -> str:
    """Why `by` cannot approve withholding `disclosure`, or "" when they can."""
    if not disclosure.awaiting_second_approver:
        return _("Nobody has asked for this disclosure to be withheld.")
    asker = disclosure.withhold_requested_by
    if asker is None:
        return _("The person who asked is no longer on record: ask again.")
    if asker.pk == by.pk:
        return _("You asked for this yourself: a different person must approve it.")
    if not by.has_perm(RECORD_PERMISSION):
        return _("You do not hold the permission to approve this.")
    if not asker.has_perm(RECORD_PERMISSION):
        return _(
            "The person who asked no longer holds the permission to ask: ask again."
        )
    if disclosure.person_id == by.pk or disclosure.people.filter(pk=by.pk).exists():
        return _("This disclosure is about you: someone else must approve it.")
    return ""


def approve_withholding(disclosure: Disclosure, *, by: User) -> User:
    """The second person approves: from now on the disclosure is absent from
    the person's export and "Your data". Returns who asked for it."""
    with transaction.atomic():
        disclosure = _locked(disclosure)
        problem = withholding_approval_refusal(disclosure, by=by)
        if problem:
            raise PrivacyError(problem)
        asker = disclosure.withhold_requested_by
        disclosure.withheld_by = by
        disclosure.withheld_at = timezone.now()
        disclosure.save()
        _audit_disclosure(
            "withholding approved",
            disclosure,
            by=by,
            detail=f"{disclosure.withhold_exemption}; asked for by user:{asker.pk}",
        )
        return asker


def reject_withholding(disclosure: Disclosure, *, by: User, reason: str) -> str:
    """Reject (a second person) or cancel (the one who asked) a pending
    request to withhold, with the reason; the disclosure stays visible to the
    person. Returns "cancelled" or "rejected"."""
    with transaction.atomic():
        reason = " ".join(reason.split())[:500]
        if not reason:
            raise PrivacyError(_("Give the reason for rejecting or cancelling it."))
        disclosure = _locked(disclosure)
        if not disclosure.awaiting_second_approver:
            raise PrivacyError(_("This disclosure is not awaiting a second approver."))
        if not by.has_perm(RECORD_PERMISSION):
            raise PrivacyError(_("You do not hold the permission to reject this."))
        asked_by = disclosure.withhold_requested_by_id
        outcome = "cancelled" if asked_by == by.pk else "rejected"
        disclosure.withhold_exemption = ""
        disclosure.withhold_reason = ""
        disclosure.withhold_requested_by = None
        disclosure.withhold_requested_at = None
        disclosure.withhold_refusal_reason = reason
        disclosure.save()
        _audit_disclosure(f"withholding {outcome}", disclosure, by=by)
        return outcome


def lift_withholding(disclosure: Disclosure, *, by: User) -> None:
    """Show a withheld disclosure to the person again (the exemption no longer
    applies). One person is enough: it makes us more open, not less."""
    with transaction.atomic():
        disclosure = _locked(disclosure)
        if not disclosure.is_withheld:
            raise PrivacyError(_("This disclosure is not withheld."))
        if not by.has_perm(RECORD_PERMISSION):
            raise PrivacyError(_("You do not hold the permission to lift this."))
        disclosure.withheld_at = None
        disclosure.withheld_by = None
        disclosure.withhold_requested_at = None
        disclosure.withhold_requested_by = None
        disclosure.save()
        _audit_disclosure("withholding lifted", disclosure, by=by)


# --- direct transmission (portability) -----------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ask_for_transmission(
    person: User, *, recipient_name: str, recipient_email: str
) -> Transmission:
    """The person asks for their data to be sent to another organisation: a
    portability request in the queue, with where to send it."""
    recipient_name = " ".join(recipient_name.split())[:200]
    recipient_email = recipient_email.strip()
    if not recipient_name or not recipient_email:
        raise PrivacyError(_("Give the organisation's name and email address."))
    if outbox.refuses(recipient_email):
        raise PrivacyError(_("We cannot send your data to that email address."))
    with transaction.atomic():
        dsr = create_request(
            person,
            DataSubjectRequest.Kind.PORTABILITY,
            details=_("Send my data to %(name)s") % {"name": recipient_name},
        )
        return Transmission.objects.create(
            request=dsr,
            person=person,
            recipient_name=recipient_name,
            recipient_email=recipient_email,
        )


def transmission_send_refusal(dsr: DataSubjectRequest, *, by: User) -> str:
    """Why `by` cannot send the data this request asks for, or "" when they can."""
    if dsr.kind != DataSubjectRequest.Kind.PORTABILITY:
        return _("Only a request to send data to another organisation can send it.")
    transmission = Transmission.objects.filter(request=dsr).first()
    if transmission is None:
        return _("This request does not say where to send the data.")
    if transmission.sent_at is not None:
        return _("This data has already been sent.")
    if not dsr.is_open:
        return _("This request is already closed.")
    if dsr.person is None or dsr.person.erased_at is not None:
        return _("This request names no account whose data can be sent.")
    if not dsr.identity_verified:
        return _("Verify the person's identity first.")
    if not by.has_perm(SEND_PERMISSION):
        return _("You do not hold the permission to send a person's data.")
    return ""


def send_transmission(dsr: DataSubjectRequest, *, by: User) -> Transmission:
    """Prepare the export, record the disclosure, and queue the mail with the
    link (sent once, after commit). The request is completed and the person
    told. Safe to run twice: a sent transmission is refused."""
    from .services import export_person

    with transaction.atomic():
        dsr = (
            DataSubjectRequest.objects.select_for_update(of=("self",))
            .select_related("person")
            .get(pk=dsr.pk)
        )
        problem = transmission_send_refusal(dsr, by=by)
        if problem:
            raise PrivacyError(problem)
        transmission = Transmission.objects.select_for_update().get(request=dsr)
        person = dsr.person
        content = export_person(person, by=by, request=dsr)
        transmission.file.save(
            f"{secrets.token_urlsafe(24)}.zip", ContentFile(content), save=False
        )
        transmission.sent_by = by
        transmission.sent_at = timezone.now()
        transmission.disclosure = Disclosure.objects.create(
            person=person,
            recipient=transmission.recipient_name,
            recipient_kind=Disclosure.RecipientKind.PERSONS_REQUEST,
            lawful_basis=Disclosure.LawfulBasis.LEGAL_OBLIGATION,
            fields="All the data in your download from “Your data”",
            purpose="Sent at your request (data portability)",
            reference=f"request:{dsr.pk}",
            recorded_by=by,
        )
        transmission.save()
        audit(
            "data sent to another organisation",
            person=person,
            by=by,
            request=dsr,
            detail=f"disclosure:{transmission.disclosure.pk}",
        )
        record = TransmissionMail.objects.create(
            key=f"transmission:{transmission.pk}",
            kind="transmission",
            to=transmission.recipient_email,
            transmission=transmission,
        )
        transaction.on_commit(lambda: dispatch_transmission_mail(record.pk))
        complete_request(
            dsr,
            by=by,
            outcome=_(
                "We have sent your data to %(name)s. Their link works once, "
                "for %(hours)s hours."
            )
            % {
                "name": transmission.recipient_name,
                "hours": settings.TRANSMISSION_LINK_HOURS,
            },
        )
        return transmission


def dispatch_transmission_mail(record_id: int) -> None:
    """Hand the mail to Celery; with the broker down the row waits for the sweep."""
    from . import tasks

    try:
        tasks.send_transmission_mail.delay(record_id)
    except Exception:
        log.warning("Broker unavailable; transmission mail %s left", record_id)


def _transmission_message(record: TransmissionMail) -> EmailMessage:
    # A fresh token at each attempt: the link exists only in the mail that
    # went; an earlier attempt's link stops working.
    transmission = record.transmission
    token = secrets.token_urlsafe(32)
    transmission.token_hash = hash_token(token)
    transmission.expires_at = timezone.now() + timezone.timedelta(
        hours=settings.TRANSMISSION_LINK_HOURS
    )
    transmission.save(update_fields=["token_hash", "expires_at"])
    return EmailMessage(
        subject=_("Personal data sent to you at a person's request"),
        body=render_to_string(
            "privacy/email/transmission.txt",
            {
                "transmission": transmission,
                "link": f"{settings.SITE_URL}/data-transfer/{token}/",
                "hours": settings.TRANSMISSION_LINK_HOURS,
                "site_name": settings.SITE_NAME,
            },
        ),
        to=[record.to],
    )


def send_transmission_mail(record_id: int) -> bool:
    """Send one row unless already sent (config.outbox.send_row)."""
    return outbox.send_row(
        TransmissionMail.objects.select_related("transmission"),
        record_id,
        _transmission_message,
    )


def send_pending_transmission_mail(*, older_than_seconds: int = 60) -> int:
    return outbox.sweep(
        TransmissionMail,
        send_transmission_mail,
        older_than_seconds=older_than_seconds,
    )


def send_transmission_mail_again(record_ids: list[int], *, by: User) -> tuple[int, int]:
    """Queue transmission mail that was not sent once more (a new link is made
    when it goes); (queued, refused). Idempotent."""
    queued, refused = outbox.send_again(
        TransmissionMail.objects.all(), record_ids, dispatch_transmission_mail
    )
    if queued or refused:
        log.info("%s sent again %s transmission emails", by.pk, queued)
    return queued, refused


def transmission_link_problem(transmission: Transmission | None) -> str:
    """Why the link cannot be used, or "" when it can."""
    if transmission is None:
        return _("This link is not valid. Check you copied all of it.")
    if transmission.downloaded_at is not None:
        return _(
            "This data has already been downloaded. The link works once: ask "
            "the person to ask us to send it again."
        )
    if transmission.expires_at is None or transmission.expires_at <= timezone.now():
        return _(
            "This link has expired. Ask the person to ask us to send their data again."
        )
    if not transmission.file:
        return _("This data is no longer available.")
    return ""


def collect_transmission(token: str) -> tuple[Transmission, bytes]:
    """The recipient downloads the data: once. The row is locked so two
    clicks at the same moment cannot both get it."""
    with transaction.atomic():
        transmission = (
            Transmission.objects.select_for_update()
            .filter(token_hash=hash_token(token))
            .exclude(token_hash="")
            .first()
        )
        problem = transmission_link_problem(transmission)
        if problem:
            raise PrivacyError(problem)
        with transmission.file.open("rb") as fh:
            content = fh.read()
        transmission.downloaded_at = timezone.now()
        transmission.save(update_fields=["downloaded_at"])
        audit(
            "sent data collected",
            person=transmission.person,
            request=transmission.request,
        )
        return transmission, content


def remove_spent_transmission_files() -> int:
    """Delete the data files of links that were used or have expired."""
    removed = 0
    spent = Transmission.objects.exclude(file="").filter(
        downloaded_at__isnull=False
    ) | Transmission.objects.exclude(file="").filter(expires_at__lt=timezone.now())
    for transmission in spent.distinct():
        transmission.file.delete(save=False)
        transmission.token_hash = ""
        transmission.save(update_fields=["file", "token_hash"])
        removed += 1
    return removed
