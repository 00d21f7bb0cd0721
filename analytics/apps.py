from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from django.core.signals import got_request_exception

        from . import metrics, privacy  # noqa: F401 (registers retention)

        got_request_exception.connect(
            metrics.note_exception, dispatch_uid="analytics.note_exception"
        )
