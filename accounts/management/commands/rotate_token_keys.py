"""`python manage.py rotate_token_keys`: re-encrypt every token under the newest key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.keys import token_keys_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored token under the first (newest) key of TOKEN_ENCRYPTION_KEYS. "
        "Afterwards the older keys can be removed from the list."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = token_keys_rotate()
        self.stdout.write(f"Re-encrypted {result.rotated} token(s) under the newest key.")
        if result.unreadable:
            raise CommandError(
                "No configured key reads the token of account(s) "
                f"{', '.join(result.unreadable)}: add the key they were written with, or "
                "reconnect them.",
                returncode=1,
            )
