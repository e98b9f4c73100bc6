"""`python manage.py refresh_tokens`: refresh now every token the daily job would refresh."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.refresh import tokens_refresh


class Command(BaseCommand):
    help = (
        "Refresh every Instagram Login token that is at least 24 hours old and expires within "
        "the horizon (ACCOUNTS_TOKEN_REFRESH_HORIZON_DAYS). One line per account; exits "
        "non-zero when any refresh failed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        results = tokens_refresh()
        if not results:
            self.stdout.write("No token is due for refresh.")
            return
        for result in results:
            expiry = (
                result.expires_at.strftime("%Y-%m-%d %H:%M %Z") if result.expires_at else "unknown"
            )
            line = f"{result.label} {result.outcome} expires {expiry}"
            if result.detail:
                line += f" ({result.detail})"
            self.stdout.write(self.style.ERROR(line) if result.failed else line)
        failed = sum(result.failed for result in results)
        if failed:
            raise CommandError(f"{failed} of {len(results)} token refreshes failed.", returncode=1)
