"""Webhook intake tasks: thin wrappers that take ids and call the intake services."""

from __future__ import annotations

from celery import shared_task

from .drain import webhook_event_process_and_drain
from .sweep import webhook_events_sweep


@shared_task(name="inbox.tasks.webhook_event_process_task")
def webhook_event_process_task(event_id: int) -> None:
    """This event, then every fresh one waiting (a burst is worked by a few tasks, in groups)."""
    webhook_event_process_and_drain(event_id=event_id)


@shared_task(name="inbox.tasks.webhook_events_sweep_task")
def webhook_events_sweep_task() -> None:
    webhook_events_sweep()
