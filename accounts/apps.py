from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, post_migrate

        from .middleware import stamp_sign_in
        from .models import Membership, _members_changed
        from .roles import sync_role_groups

        # The back-office session limits count from sign-in (accounts.middleware).
        user_logged_in.connect(stamp_sign_in, dispatch_uid="accounts.stamp_sign_in")

        # Apps added later bring new permissions; give them to the role groups.
        # Once per migrate (post_migrate is sent for every app; the sync itself
        # creates every app's permissions first).
        post_migrate.connect(
            sync_role_groups, sender=self, dispatch_uid="accounts.sync_role_groups"
        )

        # Every delete of a membership (one, many, or a cascade from its
        # person or organisation) tells signals.members_changed.
        post_delete.connect(
            lambda sender, instance, **kwargs: _members_changed(
                {instance.organisation_id}
            ),
            sender=Membership,
            weak=False,
            dispatch_uid="accounts.membership_deleted",
        )
