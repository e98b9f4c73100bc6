"""Draining the ledger: a processing task works every fresh event it finds, not just its own.

A task per event costs the worker more than most events do (the broker round trips, the
hand-over to a pool process, the acknowledgement), and under a burst most of those tasks
would wait behind each other anyway. So a processing task, once it has processed its own
event (`process`), claims the other fresh events (pending and never tried: backoff stays the
sweep's business) a group at a time, until none is left or its time is up. Claims
(`rows.webhook_events_claim`) use `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several
draining workers share a backlog without waiting on each other's rows; SQLite has one writer
at a time anyway. With publishes coalesced (`webhook_event_publish`), a burst of webhooks is
worked by a handful of tasks. In a group, the events that are plain customer messages are
stored together (`bulk`); the rest are worked one at a time (`process`).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from accounts.models import InstagramAccount
from accounts.webhook_health import account_webhooks_heard
from inbox.models import WebhookEvent
from instagram.events import WebhookBatch

from .bulk import messages_storable_together, webhook_events_store_messages
from .process import webhook_event_apply, webhook_event_process
from .publish import (
    webhook_event_publish,
    webhook_events_hold_publishes,
    webhook_events_release_publishes,
)
from .rows import (
    Lease,
    webhook_accounts,
    webhook_event_parse,
    webhook_event_settle,
    webhook_events_claim,
    webhook_events_release,
    webhook_events_settle_processed,
)

logger = logging.getLogger(__name__)

State = WebhookEvent.State

# Events claimed per statement. Plain customer messages are stored a group at a time
# (`bulk`), so the bigger the group the fewer statements an event costs: a backlog of
# 3000 messages from 50 customers cost the worker 0.33 ms of CPU an event and the database
# 0.14 ms in groups of 250, against 0.45 ms and 0.25 ms in groups of 100.
DRAIN_GROUP = 250
# A task stops after this long and queues a successor, so a long backlog does not keep the
# tasks sharing the queue (sends, profile fetches) waiting for a pool process: at about a
# millisecond an event, a second is still hundreds of events per task.
DRAIN_SECONDS = 1.0


def webhook_event_process_and_drain(*, event_id: int) -> None:
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


def webhook_events_drain(
    *, seconds: float = DRAIN_SECONDS, group: int = DRAIN_GROUP, holding: bool = False
) -> int:
    """Claim and process fresh pending events until none is left or `seconds` have passed.
    Returns how many events were worked.

    Webhooks keep arriving while a group is worked, so after a group smaller than `group`
    (the backlog is done) the drain lets the next one gather for `INTAKE_GATHER_SECONDS`
    rather than claim it an event or two at a time. While it works it holds publishes, so
    those webhooks queue no tasks of their own, and it releases them before the claim that
    may be its last. `holding`: the caller holds them already (a processing task does)."""
    deadline = time.monotonic() + seconds
    done = 0
    holding = holding and settings.INTAKE_COALESCE_PUBLISHES
    while True:
        events = webhook_events_claim(limit=group)
        if not events:
            if not holding:
                return done
            # Webhooks committed while publishes were held published nothing: one more look.
            webhook_events_release_publishes()
            holding = False
            continue
        if not holding and settings.INTAKE_COALESCE_PUBLISHES:
            webhook_events_hold_publishes()
            holding = True
        done += _work(events, deadline)
        if time.monotonic() > deadline:
            # Out of time, perhaps with more to do: a successor goes on after the queue's turn.
            webhook_events_release_publishes()
            webhook_event_publish(event_id=events[-1].pk, coalesce=True)
            return done
        if len(events) < group and holding:
            # (Without a shared mark every webhook queues a task of its own anyway.)
            time.sleep(settings.INTAKE_GATHER_SECONDS)


def _work(events: list[WebhookEvent], deadline: float) -> int:
    """Work a claimed group (at least its first event); past the deadline, give the rest
    back untried. Returns how many were worked."""
    batches = {event.pk: webhook_event_parse(event=event) for event in events}
    accounts = webhook_accounts(
        ig_ids={ig_id for batch in batches.values() if batch for ig_id in batch.account_ids}
    )
    # For the accounts page: at most one statement for the whole group, once a minute.
    account_webhooks_heard(accounts=accounts.values(), now=timezone.now())
    together = [
        (event, batch)
        for event in events
        if (batch := batches[event.pk]) is not None
        and messages_storable_together(batch=batch, accounts=accounts)
    ]
    # (One such event alone is cheaper worked the usual way.)
    if len(together) > 1 and _store_together(together, accounts):
        stored = {event.pk for event, _ in together}
        rest = [event for event in events if event.pk not in stored]
        return len(together) + _work_each(rest, batches, accounts, deadline)
    return _work_each(events, batches, accounts, deadline)


def _store_together(
    events: list[tuple[WebhookEvent, WebhookBatch]], accounts: dict[str, InstagramAccount]
) -> bool:
    """Store a group of plain customer messages at once; False when that failed (nothing was
    kept) and the events are to be worked one at a time."""
    try:
        webhook_events_store_messages(events=events, accounts=accounts)
    except DatabaseError as e:  # a concurrent delivery, most likely
        logger.info("group of %d worked one at a time: %s", len(events), type(e).__name__)
        return False
    except Exception:  # a bug: one at a time, each event's own errors are recorded
        logger.exception("group of %d could not be stored at once", len(events))
        return False
    return True


def _work_each(
    events: list[WebhookEvent],
    batches: dict[int, WebhookBatch | None],
    accounts: dict[str, InstagramAccount],
    deadline: float,
) -> int:
    """Work events one at a time, each item in its own transaction."""
    lease = Lease([event.pk for event in events])
    processed: list[int] = []
    worked = 0
    try:
        for event in events:
            if worked and time.monotonic() > deadline:
                webhook_events_release(events=events[worked:])
                break
            state, error = webhook_event_apply(
                event=event, batch=batches[event.pk], accounts=accounts, lease=lease
            )
            if state == State.PROCESSED and not error:
                processed.append(event.pk)
            else:
                webhook_event_settle(event=event, state=state, error=error)
            worked += 1
    finally:
        # Even when a later event raised (database gone): these ones are done.
        webhook_events_settle_processed(event_ids=processed)
    return worked
