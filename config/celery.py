"""The Celery app. Configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery

from config.env import exit_on_config_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("cpd")
with exit_on_config_error():
    # A wrong setting stops the worker with one line naming it (config/env.py).
    from django.conf import settings

    settings.INSTALLED_APPS  # noqa: B018 - reads the settings now
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The request id of the page that queued a task is on the task's log lines.
from config.observability import connect_celery_signals  # noqa: E402

connect_celery_signals()

# Where the last heartbeat is kept (the Django cache): /readyz reads it.
HEARTBEAT_KEY = "cpd:heartbeat"


@app.task(name="config.heartbeat", ignore_result=True)
def heartbeat() -> str:
    """Beat sends this every minute and a worker runs it: a recent heartbeat
    shows that both are running (config.views.readyz_view)."""
    from django.core.cache import cache
    from django.utils import timezone

    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now
