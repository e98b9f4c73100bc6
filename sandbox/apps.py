from typing import Any

from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "sandbox"
    verbose_name = "Sandbox"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_sync_account, sender=self)


def _sync_account(**kwargs: Any) -> None:
    from .account import sandbox_account_sync

    sandbox_account_sync()
