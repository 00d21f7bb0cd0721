"""Thin Celery wrappers around funding.services; all idempotent."""

from celery import shared_task

from config.outbox import send_or_retry

from . import services


@shared_task(bind=True, max_retries=8)
def send_funding_mail(self, record_id: int) -> bool:
    """Send one outbox row; transient failures retry with exponential back-off.
    Run in-process, a failure is left to the periodic sweep instead."""
    return send_or_retry(self, services.send_mail_record, record_id)


@shared_task
def send_pending_funding_mail(older_than_seconds: int = 60) -> int:
    return services.send_pending_mail(older_than_seconds=older_than_seconds)


@shared_task
def remind_managers() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): one reminder per unanswered link;
    safe to run twice at once (each link is claimed by a conditional update)."""
    return services.remind_managers()
