"""Thin Celery wrappers around bookings.services; all idempotent."""

from celery import shared_task
from django.conf import settings

from config.outbox import send_or_retry

from . import services


@shared_task(bind=True, max_retries=8)
def send_booking_mail(self, record_id: int) -> bool:
    """Send one outbox row; transient failures retry with exponential back-off.

    Run in-process (the embedded default) a failure is left to the periodic
    outbox sweep instead, so a request never waits on retries."""
    return send_or_retry(self, services.send_mail_record, record_id)


@shared_task
def send_pending_mail(older_than_seconds: int = 60) -> int:
    return services.send_pending_mail(older_than_seconds=older_than_seconds)


@shared_task
def send_reminders() -> int:
    return services.queue_reminders(days_before=settings.BOOKING_REMINDER_DAYS)


@shared_task
def expire_offers() -> int:
    """Every five minutes: lapsed offers pass on, places held awaiting an
    approval that did not come are released, places still held by erased or
    restricted people are withdrawn and passed on, and ring-fenced places whose
    reservation has lapsed return to general sale and go to the waiting list."""
    return (
        services.withdraw_erased_and_restricted()
        + services.expire_offers()
        + services.expire_approvals()
        + services.release_held_for_non_members()
        + services.release_reservations()
    )


@shared_task
def check_minimum_numbers() -> int:
    return services.check_minimum_numbers()


@shared_task
def release_unpaid_places() -> int:
    return services.release_unpaid_places()
