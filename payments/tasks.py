"""Thin Celery wrappers around payments.services; all idempotent."""

from celery import shared_task

from . import services
from .models import CardRefund, PaymentReference


@shared_task
def return_credit_to_card(reference_id: int) -> int:
    reference = PaymentReference.objects.filter(pk=reference_id).first()
    if reference is None:
        return 0
    return len(services.return_credit_to_card(reference))


@shared_task
def send_card_refund(refund_id: int) -> str:
    refund = CardRefund.objects.select_related("card_payment").filter(pk=refund_id)
    found = refund.first()
    if found is None:
        return "gone"
    return services.send_card_refund(found).status


@shared_task
def check_card_refunds() -> int:
    return services.check_card_refunds()
