"""The accounts app: connected Instagram accounts, Instagram Login and the token lifecycle."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Connected accounts"

    def ready(self) -> None:
        from axes.models import AccessAttempt
        from django.db.models.signals import post_delete, post_migrate

        from . import tasks  # noqa: F401  (services queue tasks by name: register them)
        from .signals import env_account_sync_after_migrate, managers_group_sync
        from .throttle import access_attempt_deleted

        # After every app: permissions of apps migrated later must exist before the sync.
        post_migrate.connect(managers_group_sync, dispatch_uid="managers_group_sync")
        # Once per migrate (sent for this app only), after the accounts table exists.
        post_migrate.connect(
            env_account_sync_after_migrate, sender=self, dispatch_uid="env_account_sync"
        )
        # A lock-out cleared in admin (or expired and cleaned up) is cleared from the gate.
        post_delete.connect(
            access_attempt_deleted, sender=AccessAttempt, dispatch_uid="login_lock_forget"
        )
