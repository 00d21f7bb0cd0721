from celery import shared_task

from . import services


@shared_task
def flush_page_views() -> int:
    """Buffered page views into the database (idempotent: view ids are unique)."""
    return services.flush_page_views()
