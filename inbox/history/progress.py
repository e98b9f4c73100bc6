"""What the accounts page shows of an account's history sync: a running sync as a progress
bar (conversations done of those found so far, messages stored), a queued one, and after it
when the last sync ran, what it stored and why it stopped, in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import HistorySync

from .state import LEASE

State = HistorySync.State


@dataclass(frozen=True)
class SyncPanel:
    account_id: int
    # "never" | "queued" | "running" | "done" | "failed" | "stalled" (its worker died)
    phase: str
    found: int = 0
    done: int = 0
    read: int = 0
    stored: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    since: datetime | None = None  # a reconciliation reads conversations updated after
    error: str = ""
    resumes: bool = False  # stopped part-way: the next sync continues from there
    can_start: bool = False  # the account is connected and no sync runs or waits

    @property
    def live(self) -> bool:
        """The page asks for fresh figures while this holds."""
        return self.phase in ("queued", "running")

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.found) if self.found else 0

    @property
    def every_hours(self) -> str:
        return f"{settings.HISTORY_SYNC_EVERY_HOURS:g}"


def history_syncs() -> dict[int, HistorySync]:
    """Every account's sync row by account id: the accounts page's accounts in one query."""
    return {row.account_id: row for row in HistorySync.objects.all()}


def history_sync_of(account: InstagramAccount) -> HistorySync | None:
    return HistorySync.objects.filter(account=account).first()


def history_panel(
    *, account: InstagramAccount, sync: HistorySync | None, now: datetime | None = None
) -> SyncPanel:
    now = now or timezone.now()
    connected = account.status == InstagramAccount.Status.ACTIVE
    if sync is None:
        return SyncPanel(account_id=account.pk, phase="never", can_start=connected)
    phase = _phase(sync, now=now)
    return SyncPanel(
        account_id=account.pk,
        phase=phase,
        found=sync.conversations_found,
        done=sync.conversations_done,
        read=sync.messages_read,
        stored=sync.messages_stored,
        started_at=sync.started_at,
        finished_at=sync.finished_at,
        since=sync.since,
        error=sync.error,
        resumes=bool(sync.cursor) and phase in ("failed", "stalled"),
        can_start=connected and phase not in ("queued", "running"),
    )


def _phase(sync: HistorySync, *, now: datetime) -> str:
    if sync.state == State.RUNNING:
        alive = sync.lease_until is not None and sync.lease_until >= now
        return "running" if alive else "stalled"
    if sync.requested_at is not None and sync.requested_at >= now - LEASE:
        return "queued"
    if sync.state == State.DONE:
        return "done"
    if sync.state == State.FAILED:
        return "failed"
    return "never"
