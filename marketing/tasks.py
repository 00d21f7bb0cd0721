"""Thin Celery wrappers around marketing.services; all idempotent.

A batch claims each person's delivery row before sending, so running a batch
twice (at-least-once delivery, a retry, two workers) sends each person at most
one message. The sending rate is read here, per worker process."""

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(acks_late=True)
def queue_campaign(campaign_id: int) -> int:
    batch_size = getattr(settings, "MARKETING_BATCH_SIZE", 500)
    return services.queue_campaign(campaign_id, batch_size=batch_size)


@shared_task(acks_late=True)
def send_campaign_batch(campaign_id: int, person_ids: list[int]) -> dict[str, int]:
    rate = getattr(settings, "MARKETING_SEND_RATE_PER_SECOND", 20)
    return dict(services.send_batch(campaign_id, person_ids, rate_per_second=rate))


@shared_task
def start_due_campaigns() -> int:
    return services.start_due_campaigns()


@shared_task
def repair_stale_deliveries() -> int:
    seconds = getattr(settings, "MARKETING_STALE_SENDING_SECONDS", 600)
    return services.repair_stale_deliveries(older_than_seconds=seconds)


@shared_task
def retry_deliveries() -> dict[str, int]:
    rate = getattr(settings, "MARKETING_SEND_RATE_PER_SECOND", 20)
    return dict(services.retry_deliveries(rate_per_second=rate))
