"""`python manage.py sync_history [--account IG_ID ...]`: read each account's recent
conversations from Meta and store what is missing; one line per account; exit status 1 when
an account failed."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.models import InstagramAccount
from inbox.history.sync import history_sync


class Command(BaseCommand):
    help = "Store what is missing of each account's recent Instagram conversations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", action="append", default=[], metavar="IG_ID")

    def handle(self, *args: Any, **options: Any) -> None:
        wanted: list[str] = options["account"]
        accounts = InstagramAccount.objects.order_by("pk")
        if wanted:
            accounts = accounts.filter(ig_id__in=wanted)
        else:
            accounts = accounts.filter(status=InstagramAccount.Status.ACTIVE)
        found = {account.ig_id: account for account in accounts}
        failed = [ig_id for ig_id in wanted if ig_id not in found]
        for ig_id in failed:
            self.stdout.write(f"{ig_id}: failed: no such account")
        for ig_id, account in found.items():
            result = history_sync(account_id=account.pk)
            summary = (
                f"{result.conversations} conversations read, {result.messages_read} "
                f"messages read, {result.messages_stored} stored"
            )
            if result.skipped:
                self.stdout.write(f"{ig_id}: skipped: a sync of this account is running")
            elif result.failed:
                failed.append(ig_id)
                self.stdout.write(f"{ig_id}: failed after {summary}: {result.error}")
            else:
                self.stdout.write(f"{ig_id}: {summary}")
        if failed:
            sys.exit(1)
