"""The ledger's safety net (beat, every few seconds) and the admin's "process again".

Nothing accepted is ever left behind: lost publishes (broker down), crashed workers,
retries with backoff, and events that wait for an account connected later are all queued
again from here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import WebhookEvent

from .publish import webhook_event_publish
from .rows import MAX_ATTEMPTS, PROCESSING_LEASE, RETRY_AFTER

logger = logging.getLogger(__name__)

State = WebhookEvent.State
SWEEP_BATCH = 500


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
