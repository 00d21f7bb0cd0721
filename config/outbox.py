"""The transactional-mail outbox shared by bookings and funding.

Each app keeps its own table (a subclass of `OutboxMessage`, with links to what
the mail is about); the rules live here once: a row is written in the same
transaction as the change it reports, sent by a Celery task after commit, sent
once whatever happens (the row lock and its status make a second attempt a
no-op), and swept up by a periodic task if no task sent it (the broker was down,
or a send failed).

A failed send is retried with back-off (the row's `retry_at`: one minute, then
doubling up to an hour) and given up after `OUTBOX_MAX_ATTEMPTS` attempts in
all (task retries and sweeps together). A row given up is never dropped: it
stays in the table as "Failed: gave up" with its attempts and last error, which
staff see (and filter on) in the outbox's admin list, and the give-up is
logged as an error.

Nothing is ever written to or sent to an erased person: an address on the
`erased.invalid` domain (what erasure gives an account) or the address of an
account that has been erased is refused when a row is queued and again when it
is sent, and erasure cancels whatever was still waiting for the person
(`cancel_pending_to`), in every outbox.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed (will retry)")
        GAVE_UP = "gave_up", _("Failed: gave up, send it by hand")
        CANCELLED = "cancelled", _("Cancelled (not sent)")

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=40)
    to = models.EmailField()
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.status})"


def attempts_allowed() -> int:
    """OUTBOX_MAX_ATTEMPTS: failed sends, in all, before a row is given up."""
    return getattr(settings, "OUTBOX_MAX_ATTEMPTS", 10)


def retry_delay_seconds(attempts: int) -> int:
    """How long after its `attempts`-th failure a row is tried again."""
    return min(3600, 60 * 2 ** max(0, attempts - 1))


def task_retry_countdown(retries: int, jitter: int = 0) -> int:
    """The countdown of a mail task's `retries`-th retry: exponential from 30 s,
    capped below the broker's visibility timeout. A task waiting longer than
    that is handed to a second worker by Redis while the first still holds it,
    so longer waits are left to the outbox sweep, which reads `retry_at`."""
    visibility = getattr(settings, "CELERY_VISIBILITY_TIMEOUT_SECONDS", 600)
    cap = max(30, visibility - 60)
    return min(cap, 30 * 2**retries) + jitter


ERASED_DOMAIN = "erased.invalid"
OUTBOX_HEADER = "X-CPD-Outbox-Row"


def refuses(address: str) -> bool:
    """True when mail must never go to this address: it is empty, on the
    domain erasure gives accounts, or belongs to an erased account."""
    from accounts.models import User

    address = (address or "").strip()
    if not address or address.lower().endswith("@" + ERASED_DOMAIN):
        return True
    return User.objects.filter(email__iexact=address, erased_at__isnull=False).exists()


def outbox_models() -> list[type["OutboxMessage"]]:
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, OutboxMessage)]


def cancel_pending_to(address: str) -> int:
    """Cancel every row still waiting to go to `address`, in every outbox, and
    forget the address on them. Called by erasure before the account is
    anonymised; returns how many rows were cancelled."""
    cancelled = 0
    for model in outbox_models():
        cancelled += model.objects.filter(
            to__iexact=address,
            status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED],
        ).update(
            status=OutboxMessage.Status.CANCELLED,
            to=f"cancelled@{ERASED_DOMAIN}",
            last_error="Cancelled: the person's data was erased.",
        )
    return cancelled


def send_row(
    rows: QuerySet, record_id: int, build: Callable[[OutboxMessage], EmailMessage]
) -> bool:
    """Send one row of `rows` unless it was already sent or given up; True when
    sent now. A failure is recorded on the row, then raised for the task to
    retry; the failure that uses up the last attempt gives the row up instead
    (logged, not raised: nothing is left to retry)."""
    error: Exception | None = None
    with transaction.atomic():
        record = (
            rows.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=record_id)
            .first()
        )
        if record is None or record.status in (
            OutboxMessage.Status.SENT,
            OutboxMessage.Status.GAVE_UP,
            OutboxMessage.Status.CANCELLED,
        ):
            return False
        if refuses(record.to):
            record.status = OutboxMessage.Status.CANCELLED
            record.last_error = "Not sent: the address belongs to an erased account."
            record.save()
            return False
        record.attempts += 1
        try:
            message = build(record)
            # Names the row, so a receiving server (or a support person
            # reading a bounce) can tell a resend from a second message.
            message.extra_headers[OUTBOX_HEADER] = f"{record._meta.label}:{record.pk}"
            message.send()
        except Exception as exc:
            record.last_error = f"{exc.__class__.__name__}: {exc}"[:500]
            if record.attempts >= attempts_allowed():
                record.status = OutboxMessage.Status.GAVE_UP
                record.retry_at = None
                log.error(
                    "%s %s gave up after %s attempts: %s",
                    record.__class__.__name__,
                    record.pk,
                    record.attempts,
                    record.last_error,
                )
            else:
                record.status = OutboxMessage.Status.FAILED
                record.retry_at = timezone.now() + timezone.timedelta(
                    seconds=retry_delay_seconds(record.attempts)
                )
                error = exc
        else:
            record.status = OutboxMessage.Status.SENT
            record.sent_at = timezone.now()
            record.last_error = ""
            record.retry_at = None
        record.save()
    if error is not None:
        raise error
    return True


def sweep(
    model: type[OutboxMessage],
    send: Callable[[int], bool],
    *,
    older_than_seconds: int = 60,
) -> int:
    """Send rows that no task has sent (the broker was down, say), and failed
    rows whose back-off has passed. Rows given up are left for staff."""
    now = timezone.now()
    cutoff = now - timezone.timedelta(seconds=older_than_seconds)
    ids = list(
        model.objects.filter(
            models.Q(retry_at__isnull=True) | models.Q(retry_at__lte=now),
            status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED],
            created_at__lte=cutoff,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    sent = 0
    for pk in ids:
        try:
            sent += send(pk)
        except Exception:
            log.exception("%s %s could not be sent", model.__name__, pk)
    return sent
