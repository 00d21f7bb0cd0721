"""Thin Celery wrappers around funding.services; all idempotent."""

import random
from smtplib import SMTPException

from celery import shared_task

from config.outbox import task_retry_countdown

from . import services


@shared_task(bind=True, max_retries=8)
def send_funding_mail(self, record_id: int) -> bool:
    """Send one outbox row; transient failures retry with exponential back-off.
    Run in-process, a failure is left to the periodic sweep instead."""
    try:
        return services.send_mail_record(record_id)
    except (SMTPException, OSError) as exc:
        if self.request.is_eager:
            return False
        countdown = task_retry_countdown(
            self.request.retries,
            jitter=random.randint(0, 15),  # noqa: S311
        )
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task
def send_pending_funding_mail(older_than_seconds: int = 60) -> int:
    return services.send_pending_mail(older_than_seconds=older_than_seconds)
