"""Thin Celery wrappers around privacy.services."""

from celery import shared_task

from accounts.models import User

from . import services


@shared_task
def prepare_export(person_id: int) -> int:
    person = User.objects.get(pk=person_id)
    return services.prepare_export(person).pk


@shared_task
def apply_retention() -> dict:
    return services.apply_retention()
