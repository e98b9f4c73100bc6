"""An account's history sync row: the claim that keeps two syncs apart, the cursor a sync
resumes from, and the progress the accounts page shows. Each change is one short statement:
a sync never holds a transaction while it waits for Meta."""

from __future__ import annotations

import enum
from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import HistorySync

State = HistorySync.State
# A running sync renews its claim at every step; one whose worker died is free after this.
LEASE = timedelta(minutes=10)


def history_claim(*, account: InstagramAccount, reconcile: bool) -> HistorySync | None:
    """Take the account's sync for this run; None when another run holds it. A run that
    stopped part-way (a cursor kept) is resumed; otherwise counters start from zero and a
    reconciliation reads only what changed since the last complete sync."""
    HistorySync.objects.get_or_create(account=account)
    now = timezone.now()
    free = ~Q(state=State.RUNNING) | Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    claimed = (
        HistorySync.objects.filter(account=account)
        .filter(free)
        .update(state=State.RUNNING, lease_until=now + LEASE, error="", requested_at=None)
    )
    if not claimed:
        return None
    run = HistorySync.objects.get(account=account)
    if not run.cursor or (not reconcile and run.since is not None):
        run.since = run.last_synced_at if reconcile else None
        run.cursor = ""
        run.started_at = now
        run.finished_at = None
        run.conversations_found = run.conversations_done = 0
        run.messages_read = run.messages_stored = 0
        run.save()
    return run


class Request(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"  # refused: a sync of the account is running
    WAITING = "waiting"  # refused: one asked for earlier has not started yet


def history_request(*, account: InstagramAccount) -> Request:
    """An admin asks for a sync: noted as queued, unless one is running or already waiting
    (one conditional statement, so two clicks at once queue one sync). The caller queues
    the task on commit."""
    HistorySync.objects.get_or_create(account=account)
    now = timezone.now()
    running = Q(state=State.RUNNING, lease_until__gte=now)
    waiting = Q(requested_at__gte=now - LEASE)
    taken = (
        HistorySync.objects.filter(account=account)
        .exclude(running | waiting)
        .update(requested_at=now)
    )
    if taken:
        return Request.QUEUED
    if HistorySync.objects.filter(running, account=account).exists():
        return Request.RUNNING
    return Request.WAITING


def history_request_drop(*, account: InstagramAccount) -> None:
    """The requested sync could not be queued: it is not waiting any more."""
    HistorySync.objects.filter(account=account).update(requested_at=None)


def history_cursor_keep(*, run: HistorySync, cursor: str) -> None:
    """The conversations page under way: where a stopped sync starts again."""
    run.cursor = cursor
    _update(run, cursor=cursor)


def history_progress(
    *, run: HistorySync, found: int = 0, done: int = 0, read: int = 0, stored: int = 0
) -> None:
    _update(
        run,
        conversations_found=F("conversations_found") + found,
        conversations_done=F("conversations_done") + done,
        messages_read=F("messages_read") + read,
        messages_stored=F("messages_stored") + stored,
    )


def history_finish(*, run: HistorySync) -> None:
    now = timezone.now()
    HistorySync.objects.filter(pk=run.pk).update(
        state=State.DONE,
        cursor="",
        since=None,
        lease_until=None,
        finished_at=now,
        last_synced_at=run.started_at or now,
        error="",
    )


def history_fail(*, run: HistorySync, error: str) -> None:
    """Stopped: the reason in words; the cursor stays, so the next run resumes."""
    HistorySync.objects.filter(pk=run.pk).update(
        state=State.FAILED, lease_until=None, finished_at=timezone.now(), error=error[:500]
    )


def _update(run: HistorySync, **values: object) -> None:
    """A change that also renews the claim."""
    HistorySync.objects.filter(pk=run.pk).update(lease_until=timezone.now() + LEASE, **values)
