"""Processing one claimed ledger row in a worker: claim, parse, apply each item, settle.

A worker claims the row with a conditional UPDATE (of two workers handed the same event,
exactly one gets it), applies each item idempotently (`apply`) and settles the row's state:
processed, pending again with a backoff (errors, a target not here yet), waiting for an
account connected later, or failed. The sweep (`sweep`) takes back what nobody finished.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import WebhookEvent
from instagram.events import ChangeEvent, UnknownEvent, WebhookBatch, parse_webhook

from .apply import TargetMissing, intake_apply_event

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


@dataclass
class BatchOutcome:
    errors: list[str] = field(default_factory=list)
    waiting_for: list[str] = field(default_factory=list)  # targets not here yet
    missing_accounts: set[str] = field(default_factory=set)
    applied: int = 0


def webhook_event_process(*, event_id: int) -> str | None:
    """Process one ledger row. Returns the state it settled in, or None when it was not
    ours to process (gone, already processed, or claimed by another worker)."""
    event = _claim(event_id)
    if event is None:
        if WebhookEvent.objects.filter(pk=event_id).exists():
            logger.debug("webhook event %s is not pending: skipped", event_id)
        else:
            logger.info("webhook event %s does not exist: skipped", event_id)
        return None
    batch = webhook_event_parse(event=event)
    accounts = webhook_accounts(ig_ids=batch.account_ids if batch else ())
    state, error = webhook_event_apply(event=event, batch=batch, accounts=accounts)
    return webhook_event_settle(event=event, state=state, error=error)


def _claim(event_id: int) -> WebhookEvent | None:
    """pending → processing, attempts + 1, in one conditional statement that also returns
    the body: of two workers handed the same event, exactly one gets it. (Raw SQL because
    the ORM's update() cannot return columns; both SQLite and PostgreSQL have RETURNING.)"""
    connection = transaction.get_connection()
    table = connection.ops.quote_name(WebhookEvent._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET state = %s, attempts = attempts + 1, updated_at = %s "  # noqa: S608
            "WHERE id = %s AND state = %s RETURNING body, attempts",
            [State.PROCESSING.value, now, event_id, State.PENDING.value],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return WebhookEvent(pk=event_id, body=row[0], attempts=row[1], state=State.PROCESSING)


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


def webhook_event_apply(
    *,
    event: WebhookEvent,
    batch: WebhookBatch | None,
    accounts: dict[str, InstagramAccount],
    lease: Lease | None = None,
) -> tuple[str, str]:
    """Apply a claimed event's items. Returns the (state, error) to settle it in. `lease`:
    every event the caller holds (default: this one), renewed during long work."""
    if event.attempts > MAX_ATTEMPTS:
        # Claimed this often and never settled: its worker keeps dying on it.
        return State.FAILED, f"gave up after {MAX_ATTEMPTS} attempts"
    if batch is None:
        return State.FAILED, "the stored body is not JSON"
    outcome = _apply_batch(event, batch, accounts, lease or Lease([event.pk]))
    return _verdict(event, outcome)


def _apply_batch(
    event: WebhookEvent, batch: WebhookBatch, accounts: dict[str, InstagramAccount], lease: Lease
) -> BatchOutcome:
    outcome = BatchOutcome()
    # Meta does not guarantee order: apply a batch's items in its own clock's order.
    items = sorted(batch.events, key=lambda e: e.timestamp_ms or 0)
    for item in items:
        if isinstance(item, UnknownEvent | ChangeEvent):
            _log_ignored(event.pk, item)
            continue
        account = accounts.get(item.account_id)
        if account is None:
            outcome.missing_accounts.add(item.account_id)
            continue
        try:
            intake_apply_event(account=account, event=item)
            outcome.applied += 1
        except TargetMissing as e:
            outcome.waiting_for.append(str(e))
        except Exception as e:  # one bad item must not hold back the others
            logger.exception("webhook event %s: %s item failed", event.pk, type(item).__name__)
            outcome.errors.append(f"{type(item).__name__}: {type(e).__name__}: {e}")
        lease.renew_if_due()  # a long batch must not look abandoned to the sweep
    return outcome


def _log_ignored(event_id: int, item: UnknownEvent | ChangeEvent) -> None:
    if isinstance(item, ChangeEvent):
        logger.info(
            "webhook event %s: change %r for %s ignored",
            event_id,
            item.field_name[:40],
            item.account_id,
        )
    else:
        logger.info("webhook event %s: unknown item (%s)", event_id, item.reason)


def _verdict(event: WebhookEvent, outcome: BatchOutcome) -> tuple[str, str]:
    last_try = event.attempts >= MAX_ATTEMPTS
    if outcome.errors:
        message = "; ".join(outcome.errors)
        return (State.FAILED if last_try else State.PENDING), message
    if outcome.waiting_for:
        message = "waiting for " + "; ".join(outcome.waiting_for)
        if last_try:
            # Reactions or edits of a message we never received (older than the connection).
            logger.warning("webhook event %s: gave up %s", event.pk, message[:300])
            return State.PROCESSED, f"gave up {message}"
        return State.PENDING, message
    if outcome.missing_accounts:
        ids = ", ".join(sorted(outcome.missing_accounts))
        logger.info("webhook event %s waits for account(s) %s", event.pk, ids)
        return State.WAITING_ACCOUNT, f"no connected account with id {ids}"
    return State.PROCESSED, ""


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
