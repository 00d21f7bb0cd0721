from celery import shared_task

from . import services


@shared_task
def flush_page_views() -> int:
    """Buffered page views into the database, then the dashboard's daily counts
    of yesterday and today rebuilt (idempotent: view ids are unique, the counts
    are rebuilt whole)."""
    written = services.flush_page_views()
    services.roll_up_page_views()
    return written
