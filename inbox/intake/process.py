"""Processing one claimed ledger row: apply each of its items, and the state to settle it in.

A worker claims the row (`rows`: of two workers handed the same event, exactly one gets it),
applies each item idempotently (`apply`) and settles the row's state: processed, pending
again with a backoff (errors, a target not here yet), waiting for an account connected
later, or failed. The sweep (`sweep`) takes back what nobody finished; the drain (`drain`)
works the fresh events of a group here one at a time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.utils import timezone

from accounts.models import InstagramAccount
from accounts.webhook_health import account_webhooks_heard
from inbox.models import WebhookEvent
from instagram.events import ChangeEvent, UnknownEvent, WebhookBatch

from .apply import TargetMissing, webhook_item_apply
from .rows import (
    MAX_ATTEMPTS,
    Lease,
    webhook_accounts,
    webhook_event_parse,
    webhook_event_settle,
    webhook_events_claim,
)

logger = logging.getLogger(__name__)

State = WebhookEvent.State


@dataclass
class BatchOutcome:
    errors: list[str] = field(default_factory=list)
    waiting_for: list[str] = field(default_factory=list)  # targets not here yet
    missing_accounts: set[str] = field(default_factory=set)
    applied: int = 0


def webhook_event_process(*, event_id: int) -> str | None:
    """Process one ledger row. Returns the state it settled in, or None when it was not
    ours to process (gone, already processed, or claimed by another worker)."""
    claimed = webhook_events_claim(event_id=event_id)
    if not claimed:
        if WebhookEvent.objects.filter(pk=event_id).exists():
            logger.debug("webhook event %s is not pending: skipped", event_id)
        else:
            logger.info("webhook event %s does not exist: skipped", event_id)
        return None
    (event,) = claimed
    batch = webhook_event_parse(event=event)
    accounts = webhook_accounts(ig_ids=batch.account_ids if batch else ())
    account_webhooks_heard(accounts=accounts.values(), now=timezone.now())
    state, error = webhook_event_apply(event=event, batch=batch, accounts=accounts)
    return webhook_event_settle(event=event, state=state, error=error)


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
            webhook_item_apply(account=account, event=item)
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
