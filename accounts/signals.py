"""What runs after every `migrate`: the Managers group's permissions, and the account the
environment configures."""

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections


def managers_group_sync(**kwargs: Any) -> None:
    """After every migrate: the Managers group can view every model, including new ones."""
    from .roles import managers_group_ensure

    managers_group_ensure()


def env_account_sync_after_migrate(*, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """After every migrate: the account configured by environment exists and matches it."""
    from .environment import env_account_sync
    from .models import InstagramAccount

    if using != DEFAULT_DB_ALIAS:
        return
    # `migrate accounts zero` also ends with post_migrate, with no table left to write to.
    if InstagramAccount._meta.db_table not in connections[using].introspection.table_names():
        return
    result = env_account_sync()
    stdout = kwargs.get("stdout")
    if result and result.action != "unchanged" and stdout and kwargs.get("verbosity", 1) >= 1:
        stdout.write(
            f"Environment account {result.account.ig_id} {result.action} "
            f"({result.account.graph_api_url})."
        )
