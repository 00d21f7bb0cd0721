from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        import django.middleware.csrf
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, post_migrate

        from config.randomness import random_string

        from .middleware import stamp_sign_in
        from .models import Membership, membership_deleted
        from .roles import sync_role_groups

        # CSRF secrets and their masks from one read of os.urandom, not one a
        # character (config/randomness.py): the same tokens, 50 µs sooner.
        django.middleware.csrf.get_random_string = random_string

        # The back-office session limits count from sign-in (accounts.middleware).
        user_logged_in.connect(stamp_sign_in, dispatch_uid="accounts.stamp_sign_in")

        # Apps added later bring new permissions; give them to the role groups.
        # Once per migrate (post_migrate is sent for every app; the sync itself
        # creates every app's permissions first).
        post_migrate.connect(
            sync_role_groups, sender=self, dispatch_uid="accounts.sync_role_groups"
        )

        # Every delete of a membership (cascades from its person or
        # organisation included) tells signals.members_changed.
        post_delete.connect(
            membership_deleted,
            sender=Membership,
            dispatch_uid="accounts.membership_deleted",
        )
