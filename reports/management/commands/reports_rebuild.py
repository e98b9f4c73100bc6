"""`python manage.py reports_rebuild`: rebuild the reports' summary of every conversation
(after upgrading to a version with reports, or to heal anything missed)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from reports.services.summary import summaries_rebuild_all


class Command(BaseCommand):
    help = "Rebuild the reports' summary (episodes and hourly activity) of every conversation."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        done = summaries_rebuild_all()
        self.stdout.write(f"{done} conversations summarised in {time.monotonic() - started:.1f}s")
