from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Each app registers what it holds about a person in its privacy.py.
        autodiscover_modules("privacy")
