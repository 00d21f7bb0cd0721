"""Shared by the funding services: the app's error, file checks, events and the
mail outbox."""

import hashlib
import logging

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from config import outbox, uploads

from ..models import (
    Application,
    FundingEvent,
    FundingMail,
    FundingRequest,
    Lifecycle,
)

log = logging.getLogger(__name__)


class FundingError(Exception):
    """A refusal whose message is safe to show to the person."""


# --- files ---------------------------------------------------------------------

# What each content type is stored as (config.uploads checks the content).
EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


def max_file_bytes() -> int:
    """The funding file limit, never above the site-wide MAX_UPLOAD_BYTES."""
    mb = int(getattr(settings, "FUNDING_MAX_FILE_MB", 10))
    return min(mb * uploads.MB, settings.MAX_UPLOAD_BYTES)


def sniff_file(upload, *, allowed=("application/pdf", "image/png", "image/jpeg")):
    """(content type, extension) from the file's content, or a FundingError.
    Forms have already checked that the name agrees (config.uploads); this
    holds for any caller, and names the stored file after its content."""
    limit = max_file_bytes()
    if upload.size is not None and upload.size > limit:
        raise FundingError(
            _("The selected file must be smaller than %(mb)s MB")
            % {"mb": f"{limit / uploads.MB:g}"}
        )
    if not upload.size:
        raise FundingError(_("The selected file is empty"))
    kind = uploads.detect(
        upload, among=[k for k in uploads.KINDS if k.content_type in allowed]
    )
    if kind is not None:
        return kind.content_type, EXTENSIONS[kind.content_type]
    if tuple(allowed) == ("application/pdf",):
        raise FundingError(_("The selected file must be a PDF"))
    raise FundingError(_("The selected file must be a PDF, PNG or JPG"))


def safe_name(upload, ext: str) -> str:
    """The uploader's file name, trimmed, with the extension the content has."""
    stem = (upload.name or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0][:150] or "file"
    return f"{stem}.{ext}"


# --- events --------------------------------------------------------------------


def record_event(
    obj: FundingRequest | Application,
    *,
    to_status: str,
    by: User | None,
    actor_label: str = "",
    note: str = "",
) -> FundingEvent:
    """Move `obj` to `to_status` (the caller holds its row lock), keep the event
    and email the learner about any change of state."""
    from_status = obj.status
    if from_status != to_status:
        obj.status = to_status
        obj.save()
    is_request = isinstance(obj, FundingRequest)
    event = FundingEvent.objects.create(
        request=obj if is_request else None,
        application=None if is_request else obj,
        actor=by,
        actor_label=actor_label,
        from_status=from_status,
        to_status=to_status,
        note=note.strip(),
    )
    if from_status != to_status and obj.person_id and to_status != "draft":
        _mail_learner_about(obj, event)
    return event


def record_decision(
    obj: Lifecycle,
    *,
    to_status: str,
    note: str,
    by: User,
    event_note: str | None = None,
) -> FundingEvent:
    """An officer's decision on a request or an application (the caller holds
    its row lock and has checked the move): what the learner is told, who
    decided and when, then the event and the learner's mail."""
    obj.decision_note = note.strip()
    obj.decided_at = timezone.now()
    obj.decided_by = by
    return record_event(
        obj,
        to_status=to_status,
        by=by,
        note=note if event_note is None else event_note,
    )


def _mail_learner_about(obj, event: FundingEvent) -> None:
    is_request = isinstance(obj, FundingRequest)
    what = obj.course_name if is_request else obj.programme
    template = "status_changed" if is_request else "application_status_changed"
    queue_mail(
        kind=template,
        key=f"funding:event:{event.pk}",
        to=obj.person.email,
        subject=_("%(what)s: %(status)s") % {"what": what, "status": event.to_label},
        template=f"funding/email/{template}.txt",
        context={"object": obj, "event": event, "person": obj.person},
        request=obj if is_request else None,
        application=None if is_request else obj,
    )


# --- mail outbox ---------------------------------------------------------------


def queue_mail(
    *,
    kind: str,
    key: str,
    to: str,
    subject: str,
    template: str,
    context: dict,
    request: FundingRequest | None = None,
    application: Application | None = None,
) -> FundingMail | None:
    """Record a mail in the outbox and send it after commit. Idempotent per key.
    Nothing is written for an erased address (`config.outbox.refuses`)."""
    if outbox.refuses(to):
        return None
    body = render_to_string(
        template,
        {**context, "site_url": settings.SITE_URL, "site_name": settings.SITE_NAME},
    )
    record, created = FundingMail.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "to": to,
            "subject": subject[:300],
            "body": body,
            "request": request,
            "application": application,
        },
    )
    if created:
        transaction.on_commit(lambda: dispatch_mail(record.pk))
    return record if created else None


def dispatch_mail(record_id: int) -> None:
    """Hand the mail to Celery. If the broker is down the row stays pending and
    the periodic `send_pending_mail` task sends it later."""
    from .. import tasks

    try:
        tasks.send_funding_mail.delay(record_id)
    except Exception:
        log.warning("Broker unavailable; funding mail %s left in the outbox", record_id)


def _message(record: FundingMail):
    from django.core.mail import EmailMessage

    return EmailMessage(
        subject=record.subject,
        body=record.body,
        to=[record.to],
        headers={"X-CPD-Mail-Key": record.key},
    )


def send_mail_record(record_id: int) -> bool:
    """Send one outbox row unless it was already sent (config.outbox.send_row)."""
    return outbox.send_row(FundingMail.objects.all(), record_id, _message)


def send_pending_mail(*, older_than_seconds: int = 60) -> int:
    """Send outbox rows that no task has sent (the broker was down, say), and
    failed rows whose back-off has passed, until OUTBOX_RETRY_HORIZON_HOURS."""
    return outbox.sweep(
        FundingMail,
        send_mail_record,
        older_than_seconds=older_than_seconds,
    )


def send_mail_again(record_ids: list[int], *, by: User) -> tuple[int, int]:
    """Queue funding mail that was not sent once more (config.outbox.send_again),
    for staff; (queued, refused because the person was erased). Idempotent."""
    queued, refused = outbox.send_again(
        FundingMail.objects.all(), record_ids, dispatch_mail
    )
    if queued or refused:
        log.info(
            "%s sent again %s funding emails (%s refused: erased)",
            by.pk,
            queued,
            refused,
        )
    return queued, refused


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
