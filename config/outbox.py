"""The transactional-mail outbox shared by bookings and funding.

Each app keeps its own table (a subclass of `OutboxMessage`, with links to what
the mail is about); the rules live here once: a row is written in the same
transaction as the change it reports, sent by a Celery task after commit, sent
once whatever happens (the row lock and its status make a second attempt a
no-op), and swept up by a periodic task if no task sent it (the broker was down,
or a send failed).

A failed send is retried with back-off (the row's `retry_at`: one minute, then
doubling up to an hour) by the periodic sweep, whatever Celery's own retries
did, until the row's `retry_until` (queued + `OUTBOX_RETRY_HORIZON_HOURS`,
three days by default; the last try is at that moment). A row whose last try
failed is never dropped: it stays in the table as "Failed: not sent" with its
attempts and last error, the failure is logged as an error, and staff see it
(a count on the staff pages and the admin index, the outbox's admin list, a
tag on the session register) and can send it again (`send_again`: a new
horizon from then, once, never to an erased person).

Nothing is ever written to or sent to an erased person: an address on the
`erased.invalid` domain (what erasure gives an account) or the address of an
account that has been erased is refused when a row is queued and again when it
is sent, and erasure cancels whatever was still waiting for the person
(`cancel_pending_to`), in every outbox.
"""

import logging
import random
from collections.abc import Callable
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)


def retry_horizon() -> timezone.timedelta:
    """OUTBOX_RETRY_HORIZON_HOURS: how long a mail is retried after it is queued
    (or sent again) before it is shown to staff as not sent."""
    return timezone.timedelta(hours=getattr(settings, "OUTBOX_RETRY_HORIZON_HOURS", 72))


def default_retry_until():
    return timezone.now() + retry_horizon()


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed (will retry)")
        # Retried until `retry_until` and still refused: kept for staff to see
        # and send again.
        GAVE_UP = "gave_up", _("Failed: not sent")
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
    retry_until = models.DateTimeField(
        default=default_retry_until,
        help_text=_("Failed sends are retried until then, then shown as not sent."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.status})"


def retry_delay_seconds(attempts: int) -> int:
    """How long after its `attempts`-th failure a row is tried again."""
    return min(3600, 60 * 2 ** min(12, max(0, attempts - 1)))


def next_retry_at(attempts: int, retry_until, now=None):
    """When to try again after the `attempts`-th failure, or None when the
    horizon has passed (the row is not sent, for good). The last retry falls on
    the horizon itself, so a row is tried right up to it."""
    now = now or timezone.now()
    if now >= retry_until:
        return None
    return min(
        now + timezone.timedelta(seconds=retry_delay_seconds(attempts)), retry_until
    )


def task_retry_countdown(retries: int, jitter: int = 0) -> int:
    """The countdown of a mail task's `retries`-th retry: exponential from 30 s,
    capped below the broker's visibility timeout. A task waiting longer than
    that is handed to a second worker by Redis while the first still holds it,
    so longer waits are left to the outbox sweep, which reads `retry_at`."""
    visibility = getattr(settings, "CELERY_VISIBILITY_TIMEOUT_SECONDS", 600)
    cap = max(30, visibility - 60)
    return min(cap, 30 * 2**retries) + jitter


def send_or_retry(task, send: Callable[[int], bool], record_id: int) -> bool:
    """The body of every outbox send task (`bind=True`): send the row; on a
    transient failure retry with `task_retry_countdown` and some jitter. Run
    in-process (the embedded default), a failure is left to the periodic
    sweep instead, so a request never waits on retries."""
    try:
        return send(record_id)
    except (SMTPException, OSError) as exc:
        if task.request.is_eager:
            return False
        countdown = task_retry_countdown(
            task.request.retries,
            jitter=random.randint(0, 15),  # noqa: S311 - spreading retries
        )
        raise task.retry(exc=exc, countdown=countdown) from exc


ERASED_DOMAIN = "erased.invalid"
OUTBOX_HEADER = "X-CPD-Outbox-Row"


def refuses(address: str) -> bool:
    """True when mail must never go to this address: it is empty, on the
    domain erasure gives accounts, or belongs to an erased or closed account."""
    from accounts.selectors import users_with_email

    address = (address or "").strip()
    if not address or address.lower().endswith("@" + ERASED_DOMAIN):
        return True
    return (
        users_with_email(address)
        .filter(models.Q(erased_at__isnull=False) | models.Q(closed_at__isnull=False))
        .exists()
    )


def outbox_models() -> list[type["OutboxMessage"]]:
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, OutboxMessage)]


def cancel_pending_to(address: str, *, closed: bool = False) -> int:
    """Cancel every row still waiting to go to `address` (or not sent, which
    staff could send again), in every outbox, and forget the address on them.
    Called by erasure before the account is anonymised, and by the closure of
    an account (`closed`: the address is kept, as the account is); returns
    how many rows were cancelled."""
    cancelled = 0
    if closed:
        change = {"last_error": "Cancelled: the person's account was closed."}
    else:
        change = {
            "to": f"cancelled@{ERASED_DOMAIN}",
            "last_error": "Cancelled: the person's data was erased.",
        }
    for model in outbox_models():
        cancelled += model.objects.filter(
            to__iexact=address,
            status__in=[
                OutboxMessage.Status.PENDING,
                OutboxMessage.Status.FAILED,
                OutboxMessage.Status.GAVE_UP,
            ],
        ).update(status=OutboxMessage.Status.CANCELLED, **change)
    return cancelled


def send_row(
    rows: QuerySet, record_id: int, build: Callable[[OutboxMessage], EmailMessage]
) -> bool:
    """Send one row of `rows` unless it was already sent or given up; True when
    sent now. The row is locked while it is sent and its status says whether it
    went, so a task and a sweep (or two workers) never both send it. A failure
    is recorded on the row with its next `retry_at`, then raised for the task to
    retry; a failure at or after `retry_until` marks the row not sent for good
    instead (logged as an error, not raised: nothing is left to retry)."""
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
            record.last_error = (
                "Not sent: the address belongs to an erased or closed account."
            )
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
            record.retry_at = next_retry_at(record.attempts, record.retry_until)
            if record.retry_at is None:
                record.status = OutboxMessage.Status.GAVE_UP
                log.error(
                    "%s %s not sent: still failing after %s attempts since %s: %s",
                    record.__class__.__name__,
                    record.pk,
                    record.attempts,
                    record.created_at.isoformat(),
                    record.last_error,
                )
            else:
                record.status = OutboxMessage.Status.FAILED
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


def send_again(
    rows: QuerySet, record_ids: list[int], dispatch: Callable[[int], None]
) -> tuple[int, int]:
    """Put rows that were not sent (GAVE_UP) back in the outbox with a new
    horizon from now, and `dispatch` each after commit; (queued, refused).
    Idempotent: a row already queued again, sent or cancelled is left alone,
    so a double submit queues it once. A row whose address is erased (or
    belongs to an erased account) is cancelled instead, never sent."""
    queued = refused = 0
    for pk in record_ids:
        with transaction.atomic():
            record = (
                rows.select_for_update(of=("self",))
                .filter(pk=pk, status=OutboxMessage.Status.GAVE_UP)
                .first()
            )
            if record is None:
                continue
            if refuses(record.to):
                record.status = OutboxMessage.Status.CANCELLED
                record.to = f"cancelled@{ERASED_DOMAIN}"
                record.last_error = "Not sent: the person's data was erased."
                record.save()
                refused += 1
                continue
            record.status = OutboxMessage.Status.PENDING
            record.attempts = 0
            record.retry_at = None
            record.retry_until = default_retry_until()
            record.save()
            transaction.on_commit(lambda pk=pk: dispatch(pk))
            queued += 1
    return queued, refused


# The messages each outbox holds that were not sent for good (and the status
# that says so); the staff pages count them. Campaign deliveries are not an
# `OutboxMessage` (marketing is sent at most once) but fail visibly the same way.
FAILED_FOR_GOOD = (
    ("bookings.MailRecord", OutboxMessage.Status.GAVE_UP, _("Booking emails")),
    ("funding.FundingMail", OutboxMessage.Status.GAVE_UP, _("Funding emails")),
    ("marketing.Delivery", "failed", _("Campaign messages")),
    (
        "privacy.TransmissionMail",
        OutboxMessage.Status.GAVE_UP,
        _("Data transfer emails"),
    ),
)


def failed_mail_counts(user) -> list[dict]:
    """For each outbox `user` may view: its label, admin list of failed rows and
    how many there are (only outboxes with any). One query, whatever the rows."""
    from django.apps import apps
    from django.db import connection
    from django.urls import reverse

    shown = []
    for label, status, title in FAILED_FOR_GOOD:
        model = apps.get_model(label)
        opts = model._meta
        if user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            shown.append((model, status, title))
    if not shown:
        return []
    sql = ", ".join(
        f"(SELECT COUNT(*) FROM {model._meta.db_table} WHERE status = %s)"  # noqa: S608 (table names from the models)
        for model, _status, _title in shown
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", [status for _m, status, _t in shown])
        counts = cursor.fetchone()
    return [
        {
            "title": title,
            "count": count,
            "url": reverse(
                f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
            )
            + f"?status__exact={status}",
        }
        for (model, status, title), count in zip(shown, counts, strict=True)
        if count
    ]
