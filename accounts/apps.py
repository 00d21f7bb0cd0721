from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .roles import sync_role_groups

        # Apps added later bring new permissions; give them to the role groups.
        # Once per migrate (post_migrate is sent for every app; the sync itself
        # creates every app's permissions first).
        post_migrate.connect(
            sync_role_groups, sender=self, dispatch_uid="accounts.sync_role_groups"
        )
