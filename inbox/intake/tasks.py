"""Webhook intake tasks: thin wrappers that take ids and call the intake services."""

from __future__ import annotations

import logging

from celery import shared_task

from .drain import webhook_events_drain
from .process import webhook_event_process
from .publish import webhook_events_hold_publishes, webhook_events_release_publishes
from .sweep import webhook_events_sweep

logger = logging.getLogger(__name__)


@shared_task(name="inbox.tasks.webhook_event_process_task")
def webhook_event_process_task(event_id: int) -> None:
    """This event, then every fresh one waiting (a burst is worked by a few tasks, in groups).

    Webhooks arriving meanwhile publish nothing: the drain releases publishes before the
    look that may be its last, and so sees every event committed while they were held.
    Releasing them here instead would let a webhook queue another task in the moment before
    the drain's first look, and under a steady flow every task would start a second one."""
    webhook_events_hold_publishes()
    try:
        state = webhook_event_process(event_id=event_id)
        drained = webhook_events_drain(holding=True)
    except BaseException:
        # This task will not look again (the database is down, say): webhooks publish again
        # rather than wait for the hold to expire.
        webhook_events_release_publishes()
        raise
    logger.debug("webhook event %s: %s; %d more drained", event_id, state, drained)


@shared_task(name="inbox.tasks.webhook_events_sweep_task")
def webhook_events_sweep_task() -> None:
    webhook_events_sweep()
