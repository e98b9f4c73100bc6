"""A ledger row in a worker: claimed, read, leased, settled, or given back.

The worker's changes of a row's state live here, below everything that makes them:
`process` (one event), `drain` (a group), `bulk` (a group stored at once), and the retry
schedule and lease that `sweep` (what nobody finished) goes by. A claim moves pending rows to
processing and counts a try in one statement: of two workers handed the same event, exactly
one gets it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import WebhookEvent
from instagram.events import WebhookBatch, parse_webhook

logger = logging.getLogger(__name__)

State = WebhookEvent.State

# Attempt n (1-based) that failed is retried this long after it; after the last, the event
# is failed (errors) or settled with a note (a target that never arrived). Index 0 is a
# pending event nobody picked up (its publish was lost, e.g. while the broker was down).
RETRY_AFTER = (
    timedelta(seconds=30),
    timedelta(seconds=15),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
)
MAX_ATTEMPTS = len(RETRY_AFTER)
# A processing row not touched for this long belongs to a worker that died: take it back.
PROCESSING_LEASE = timedelta(seconds=60)
HEARTBEAT_SECONDS = 10.0
ERROR_LENGTH = 2000


def webhook_events_claim(*, event_id: int | None = None, limit: int = 1) -> list[WebhookEvent]:
    """pending → processing, attempts + 1, in one statement that also returns the bodies.

    With `event_id`: that event if it is pending, whatever its tries (the sweep hands out
    retries by id). Without: up to `limit` fresh events (pending and never tried: backoff is
    the sweep's business), oldest first. Raw SQL because the ORM's update() cannot return
    columns; both SQLite and PostgreSQL have RETURNING."""
    connection = transaction.get_connection()
    table = connection.ops.quote_name(WebhookEvent._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    claim = f"UPDATE {table} SET state = %s, attempts = attempts + 1, updated_at = %s"  # noqa: S608
    if event_id is not None:
        # Conditional on the state: of two workers handed the same event, exactly one gets it.
        sql = f"{claim} WHERE id = %s AND state = %s RETURNING id, body, attempts"
        params = [State.PROCESSING.value, now, event_id, State.PENDING.value]
    else:
        fresh = (
            f"SELECT id FROM {table} WHERE state = %s AND attempts = 0 "  # noqa: S608
            "ORDER BY received_at, id"
        )
        if connection.features.has_select_for_update_skip_locked:
            # PostgreSQL: draining workers share a backlog without waiting on each other's
            # rows. A materialised CTE picks the rows once: as `id IN (subquery)` the planner
            # may run the subquery again for each row and claim past the limit.
            sql = (
                f"WITH picked AS MATERIALIZED ({fresh} LIMIT %s FOR UPDATE SKIP LOCKED) "
                f"{claim} FROM picked WHERE {table}.id = picked.id "
                f"RETURNING {table}.id, {table}.body, {table}.attempts"
            )
            params = [State.PENDING.value, limit, State.PROCESSING.value, now]
        else:  # SQLite: one writer at a time, and the subquery is a list computed once
            sql = f"{claim} WHERE id IN ({fresh} LIMIT %s) RETURNING id, body, attempts"
            params = [State.PROCESSING.value, now, State.PENDING.value, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        WebhookEvent(pk=pk, body=body, attempts=attempts, state=State.PROCESSING)
        for pk, body, attempts in sorted(rows)
    ]


def webhook_event_parse(*, event: WebhookEvent) -> WebhookBatch | None:
    """A claimed event's items, or None when its stored body is not JSON."""
    try:
        payload = json.loads(event.body)
    except (ValueError, RecursionError):
        return None
    return parse_webhook(payload)


def webhook_accounts(*, ig_ids: Iterable[str]) -> dict[str, InstagramAccount]:
    """The connected accounts among these ids, by id: one query for a whole group of events."""
    return {
        account.ig_id: account
        for account in InstagramAccount.objects.filter(ig_id__in=list(ig_ids))
    }


@dataclass
class Lease:
    """Claimed events one worker holds, kept from the sweep while it works through them."""

    event_ids: list[int]
    renewed: float = field(default_factory=time.monotonic)

    def renew_if_due(self) -> None:
        if time.monotonic() - self.renewed > HEARTBEAT_SECONDS:
            WebhookEvent.objects.filter(pk__in=self.event_ids, state=State.PROCESSING).update(
                updated_at=timezone.now()
            )
            self.renewed = time.monotonic()


def webhook_event_settle(*, event: WebhookEvent, state: str, error: str) -> str:
    now = timezone.now()
    WebhookEvent.objects.filter(pk=event.pk, state=State.PROCESSING).update(
        state=state,
        last_error=error[:ERROR_LENGTH],
        processed_at=now if state == State.PROCESSED else None,
        updated_at=now,
    )
    if state == State.FAILED:
        logger.error("webhook event %s failed: %s", event.pk, error[:300])
    return state


def webhook_events_settle_processed(*, event_ids: Sequence[int]) -> None:
    """Settle a group of cleanly processed events in one statement."""
    if event_ids:
        now = timezone.now()
        WebhookEvent.objects.filter(pk__in=event_ids, state=State.PROCESSING).update(
            state=State.PROCESSED, last_error="", processed_at=now, updated_at=now
        )


def webhook_events_release(*, events: Sequence[WebhookEvent]) -> None:
    """Claimed but not tried: fresh again for the next drain (the claim counted a try)."""
    WebhookEvent.objects.filter(
        pk__in=[event.pk for event in events], state=State.PROCESSING
    ).update(state=State.PENDING, attempts=F("attempts") - 1, updated_at=timezone.now())
