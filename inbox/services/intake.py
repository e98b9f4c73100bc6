"""The webhook event ledger: record in the request, process asynchronously, sweep, retry.

The request does as little as it can: check the body is JSON, insert one row (in a statement
it may share with concurrent requests: `intake_ledger`), publish the processing task once the
row is committed. Everything else happens in a worker, which claims the row with a
conditional UPDATE, applies each item idempotently (`intake_apply`) and settles the row's
state. A beat task sweeps the ledger so nothing accepted is ever left behind: lost publishes
(broker down), crashed workers, retries with backoff, and events that wait for an account
connected later.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import WebhookEvent
from instagram.events import (
    ChangeEvent,
    UnknownEvent,
    WebhookBatch,
    account_ids_of,
    parse_webhook,
)

from .intake_apply import TargetMissing, intake_apply_event
from .intake_ledger import ledger_insert
from .intake_publish import task_publish, task_publish_once, task_queued_clear, task_queued_mark

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
SWEEP_BATCH = 500
ERROR_LENGTH = 2000
# Held in the cache while a coalesced processing task waits in the queue.
TASK_QUEUED_KEY = "inbox:intake:task-queued"


class NotJSONError(ValueError):
    """The body is not UTF-8 JSON."""


# --- the request side ------------------------------------------------------------------
def webhook_event_record(*, body: bytes) -> int | None:
    """Store an authentic body in the ledger and queue its processing once committed.

    Returns the new row's id, or None for a byte-identical redelivery. Raises NotJSONError
    for a body that is not JSON, and django.db.Error when the database is down.
    """
    try:
        text = body.decode("utf-8")
        payload = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise NotJSONError(str(e)[:200]) from e
    object_type = payload.get("object") if isinstance(payload, dict) else None
    body_sha256 = hashlib.sha256(body).hexdigest()
    event_id = ledger_insert(
        body=text,
        body_sha256=body_sha256,
        object_type=object_type[:32] if isinstance(object_type, str) else "",
        account_ids=[account_id[:64] for account_id in account_ids_of(payload)[:100]],
        on_stored=_publish_fresh,
    )
    if event_id is None:
        logger.info("webhook redelivery ignored (sha256 %s…)", body_sha256[:12])
    return event_id


def _publish_fresh(event_id: int) -> None:
    webhook_event_publish(event_id=event_id, coalesce=True)


def webhook_event_publish(*, event_id: int, coalesce: bool = False) -> None:
    """Queue processing. Never raises: if the broker is down, the sweep picks the row up.

    `coalesce` (a new event, or a drain out of time): publish nothing while a processing task
    published this way has not started yet, and start such a task `INTAKE_GATHER_SECONDS`
    late. Every task drains the fresh events it finds once it starts (`webhook_events_drain`),
    so that queued task takes this event too: a burst of webhooks costs a few tasks, not one
    each. Only where every process shares the cache (Redis); with a per-process cache the
    worker could not clear the web's mark.
    """
    from inbox.tasks.intake import webhook_event_process_task

    if coalesce and settings.INTAKE_COALESCE_PUBLISHES:
        task_publish_once(
            webhook_event_process_task,
            event_id,
            key=TASK_QUEUED_KEY,
            countdown=settings.INTAKE_GATHER_SECONDS or None,
        )
    else:
        task_publish(webhook_event_process_task, event_id)


def webhook_events_release_publishes() -> None:
    """A drain is about to look for fresh events, and that look may be its last: events
    committed from now on publish a task again, since the look may have missed them."""
    if settings.INTAKE_COALESCE_PUBLISHES:
        task_queued_clear(TASK_QUEUED_KEY)


def webhook_events_hold_publishes() -> None:
    """A drain (or a processing task, before its own event) will look for fresh events again,
    releasing first: events committed meanwhile publish no task of their own."""
    if settings.INTAKE_COALESCE_PUBLISHES:
        task_queued_mark(TASK_QUEUED_KEY)


# --- the worker side -------------------------------------------------------------------
@dataclass
class Outcome:
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
) -> Outcome:
    outcome = Outcome()
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


def _verdict(event: WebhookEvent, outcome: Outcome) -> tuple[str, str]:
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


# --- the sweep and the admin -----------------------------------------------------------
def webhook_events_sweep(*, now: datetime | None = None) -> list[int]:
    """Re-queue what nobody is working on. Returns the ids queued.

    - processing rows whose lease ran out (their worker died) go back to pending;
    - pending rows whose backoff has passed (index 0: a publish that was lost);
    - waiting_account rows whose account exists now (connected after the events came).
    """
    now = now or timezone.now()
    stale = list(
        WebhookEvent.objects.filter(
            state=State.PROCESSING, updated_at__lt=now - PROCESSING_LEASE
        ).values_list("id", flat=True)[:SWEEP_BATCH]
    )
    if stale:
        WebhookEvent.objects.filter(
            pk__in=stale, state=State.PROCESSING, updated_at__lt=now - PROCESSING_LEASE
        ).update(state=State.PENDING, updated_at=now)
        logger.warning("webhook events %s were abandoned while processing", stale[:20])
    due = Q()
    for attempts, delay in enumerate(RETRY_AFTER):
        due |= Q(attempts=attempts, updated_at__lt=now - delay)
    due |= Q(attempts__gt=MAX_ATTEMPTS - 1, updated_at__lt=now - RETRY_AFTER[-1])
    pending = list(
        WebhookEvent.objects.filter(due, state=State.PENDING)
        .order_by("received_at")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    ready = _waiting_events_ready(now)
    ids = list(dict.fromkeys([*stale, *pending, *ready]))
    if not ids:
        return []
    # Touch them so the next sweep does not queue them again before a worker gets to them.
    WebhookEvent.objects.filter(pk__in=ids, state=State.PENDING).update(updated_at=now)
    for event_id in ids:
        webhook_event_publish(event_id=event_id)
    logger.info("webhook sweep queued %d event(s)", len(ids))
    return ids


def _waiting_events_ready(now: datetime) -> list[int]:
    """Events that waited for an account that exists now. Such events are rare (Meta sends
    webhooks only for subscribed accounts), so a scan of their account ids is cheap."""
    waiting = WebhookEvent.objects.filter(state=State.WAITING_ACCOUNT)
    if not waiting.exists():
        return []
    known = set(InstagramAccount.objects.values_list("ig_id", flat=True))
    ready = [
        event_id
        for event_id, account_ids in waiting.values_list("id", "account_ids").iterator(
            chunk_size=2000
        )
        if isinstance(account_ids, list) and known.intersection(map(str, account_ids))
    ][:SWEEP_BATCH]
    if ready:
        WebhookEvent.objects.filter(pk__in=ready, state=State.WAITING_ACCOUNT).update(
            state=State.PENDING, attempts=0, last_error="", updated_at=now
        )
        logger.info("webhook events %s: their account is connected now", ready[:20])
    return ready


def webhook_events_reprocess(*, event_ids: Iterable[int]) -> int:
    """An admin asked to process these again (after a fix, or a failed event). Processing is
    idempotent, so a processed event may be replayed too; one in flight is left alone."""
    with transaction.atomic():
        ids = list(
            WebhookEvent.objects.filter(pk__in=list(event_ids))
            .exclude(state=State.PROCESSING)
            .values_list("id", flat=True)
        )
        WebhookEvent.objects.filter(pk__in=ids).update(
            state=State.PENDING,
            attempts=0,
            last_error="",
            processed_at=None,
            updated_at=timezone.now(),
        )
        for event_id in ids:
            transaction.on_commit(partial(webhook_event_publish, event_id=event_id))
    return len(ids)
