"""The accounts app: connected Instagram accounts, Instagram Login and the token lifecycle."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Connected accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import tasks  # noqa: F401  (services queue tasks by name: register them)
        from .signals import env_account_sync_after_migrate, managers_group_sync

        # After every app: permissions of apps migrated later must exist before the sync.
        post_migrate.connect(managers_group_sync, dispatch_uid="managers_group_sync")
        # Once per migrate (sent for this app only), after the accounts table exists.
        post_migrate.connect(
            env_account_sync_after_migrate, sender=self, dispatch_uid="env_account_sync"
        )
