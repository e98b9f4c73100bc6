"""The reports' Celery task: catch the summary up with the inbox (beat, every minute), so
the page's own catch-up before it reads stays small."""

from __future__ import annotations

from celery import shared_task

from reports.services.summary import summaries_catch_up


@shared_task(name="reports.tasks.summaries_catch_up_task", ignore_result=True)
def summaries_catch_up_task() -> int:
    return summaries_catch_up(settle=True)
