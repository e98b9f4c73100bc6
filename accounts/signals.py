from typing import Any


def managers_group_sync(**kwargs: Any) -> None:
    """After every migrate: the Managers group can view every model, including new ones."""
    from .roles import managers_group_ensure

    managers_group_ensure()
