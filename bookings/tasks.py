"""Thin Celery wrappers around bookings.services; all idempotent."""

from smtplib import SMTPException

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(
    autoretry_for=(SMTPException, OSError, ConnectionError),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=8,
)
def send_booking_mail(record_id: int) -> bool:
    return services.send_mail_record(record_id)


@shared_task
def send_pending_mail(older_than_seconds: int = 60) -> int:
    return services.send_pending_mail(older_than_seconds=older_than_seconds)


@shared_task
def send_reminders() -> int:
    return services.queue_reminders(days_before=settings.BOOKING_REMINDER_DAYS)


@shared_task
def expire_offers() -> int:
    return services.expire_offers()


@shared_task
def check_minimum_numbers() -> int:
    return services.check_minimum_numbers()
