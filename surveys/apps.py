from django.apps import AppConfig


class SurveysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        from . import privacy  # noqa: F401 (registers the survey answers)
