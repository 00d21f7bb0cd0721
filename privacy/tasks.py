"""Thin Celery wrappers around privacy.services."""

from celery import shared_task

from accounts.models import User
from config.outbox import send_or_retry

from . import disclosures, services


@shared_task
def prepare_export(person_id: int) -> int:
    person = User.objects.get(pk=person_id)
    return services.prepare_export(person).pk


@shared_task
def apply_retention() -> dict:
    return services.apply_retention()


@shared_task(bind=True, max_retries=8)
def send_transmission_mail(self, record_id: int) -> bool:
    """Send one transmission link; transient failures retry with back-off.
    Run in-process, a failure is left to the periodic sweep instead."""
    return send_or_retry(self, disclosures.send_transmission_mail, record_id)


@shared_task
def send_pending_transmission_mail(older_than_seconds: int = 60) -> int:
    return disclosures.send_pending_transmission_mail(
        older_than_seconds=older_than_seconds
    )
