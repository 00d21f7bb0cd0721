"""Thin Celery wrappers around accounts.services (closing accounts)."""

from celery import shared_task

from .services import closure


@shared_task(bind=True, max_retries=5)
def send_closure_mail(self, closure_id: int, event: str) -> bool:
    try:
        return closure.send_closure_mail(closure_id, event)
    except OSError as exc:  # the mail server did not answer: try again later
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc


@shared_task
def close_due_accounts() -> int:
    return closure.close_due_accounts()
