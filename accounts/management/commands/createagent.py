"""`python manage.py createagent`: create or update an agent, and the accounts they work."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.agents import agent_upsert
from accounts.roles import user_is_manager


class Command(BaseCommand):
    help = "Create or update an agent who may work the inboxes of the named accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", help="required when the agent is new")
        parser.add_argument(
            "--account",
            dest="accounts",
            action="append",
            default=[],
            metavar="IG_ID",
            help="an Instagram account id the agent may work (repeatable)",
        )
        # argparse refuses both at once, naming them.
        role = parser.add_mutually_exclusive_group()
        role.add_argument(
            "--admin", action="store_true", help="all accounts, and may connect accounts"
        )
        role.add_argument(
            "--manager",
            action="store_true",
            help="may view everything in Django admin and change nothing (staff in the "
            "Managers group); works the inboxes of the accounts named with --account",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user, created = agent_upsert(
                username=options["username"],
                password=options["password"],
                account_ig_ids=options["accounts"],
                is_admin=options["admin"],
                is_manager=options["manager"],
            )
        except ValueError as e:
            raise CommandError(str(e)) from e
        role = "admin" if user.is_superuser else "manager" if user_is_manager(user) else "agent"
        verb = "Created" if created else "Updated"
        accounts = ", ".join(a.ig_id for a in user.instagram_accounts.all()) or "none"
        self.stdout.write(f"{verb} {role} {user.get_username()} (accounts: {accounts})")
