"""Syncing an account's history: page through `GET /me/conversations?platform=instagram`,
read each conversation and store what is missing.

Every call waits for the account's history bucket (at most 2 a second, across workers), is
retried after a throttle or a transient failure with back-off, and happens with no database
transaction open. The conversations page under way is kept as a cursor, so a sync stopped
by an outage resumes there. A refused token (190) marks the account for reconnection
(`account_call`) and stops the sync.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from django.db import transaction

from accounts.meta import account_call
from accounts.models import InstagramAccount
from common.queueing import task_queue
from inbox.models import HistorySync
from inbox.outbound.pacing import Bucket, bucket_pause, gate_wait, history_bucket, retry_delay
from instagram.answers import ConversationRef, HistoryMessage
from instagram.client import GraphClient
from instagram.errors import AuthError, GraphError, RateLimitedError, TransientError

from .state import (
    Request,
    history_claim,
    history_cursor_keep,
    history_fail,
    history_finish,
    history_progress,
    history_request,
    history_request_drop,
)
from .store import history_conversation_store

logger = logging.getLogger(__name__)

T = TypeVar("T")
SYNC_TASK = "inbox.tasks.history_sync_task"
# Retries of one call inside the run; a longer wait than SLEEP_MAX stops the run instead
# (its task comes back later and resumes from the cursor).
CALL_RETRIES = 4
SLEEP_MAX = 60.0
_sleep = time.sleep  # replaced in tests


@dataclass(frozen=True)
class SyncResult:
    conversations: int = 0
    messages_read: int = 0
    messages_stored: int = 0
    error: str = ""
    skipped: bool = False  # another sync of the account is running
    retry_in: float | None = None  # stopped by Meta's limits or an outage: run again later

    @property
    def failed(self) -> bool:
        return bool(self.error)


class _Stop(Exception):
    def __init__(self, error: GraphError, retry_in: float | None) -> None:
        super().__init__(error.message)
        self.error, self.retry_in = error, retry_in


def history_sync(*, account_id: int, reconcile: bool = False) -> SyncResult:
    """Sync one account (everything Meta gives, or with `reconcile` only the conversations
    updated since the last complete sync)."""
    account = InstagramAccount.objects.filter(pk=account_id).first()
    if account is None or account.status != InstagramAccount.Status.ACTIVE:
        return SyncResult(error="The account is not connected.")
    run = history_claim(account=account, reconcile=reconcile)
    if run is None:
        return SyncResult(skipped=True)
    try:
        _sync(account, run)
    except _Stop as stop:
        words = _in_words(stop.error)
        logger.warning("history sync of account %s stopped: %s", account.pk, words)
        history_fail(run=run, error=words)
        return _result(run, error=words, retry_in=stop.retry_in)
    history_finish(run=run)
    return _result(run)


def history_sync_queue(*, account_id: int, reconcile: bool = False) -> bool:
    """Queue an account's sync (after a connect, an admin's click, the beat)."""
    return task_queue(SYNC_TASK, account_id, kwargs={"reconcile": reconcile})


def history_start_request(*, account: InstagramAccount) -> tuple[bool, str]:
    """An admin's "Sync history" (the accounts page, Django admin): whether a sync was
    queued, and what to tell them."""
    if account.status != InstagramAccount.Status.ACTIVE:
        return False, f"{account} is not connected: reconnect it before syncing its history."
    outcome = history_request(account=account)
    if outcome == Request.RUNNING:
        return False, f"A history sync of {account} is already running: its progress is shown."
    if outcome == Request.WAITING:
        return False, f"A history sync of {account} is already queued: it starts in a moment."
    transaction.on_commit(lambda: _queue_requested(account))
    return True, f"History sync queued for {account}: its progress is shown on the accounts page."


def _queue_requested(account: InstagramAccount) -> None:
    """The broker refused the task: the page stops saying "queued" (and offers the button)."""
    if not history_sync_queue(account_id=account.pk):
        history_request_drop(account=account)


def history_reconcile_queue() -> int:
    """Queue a reconciliation of every connected account; returns how many."""
    ids = InstagramAccount.objects.filter(status=InstagramAccount.Status.ACTIVE).values_list(
        "pk", flat=True
    )
    return sum(history_sync_queue(account_id=pk, reconcile=True) for pk in ids)


def _sync(account: InstagramAccount, run: HistorySync) -> None:
    bucket = history_bucket(account_id=account.pk)
    after = run.cursor
    while True:
        page = _call(account, bucket, partial(GraphClient.get_conversations, after=after))
        # Newest first: in a reconciliation, the first one not updated since ends it.
        fresh = [c for c in page.conversations if _updated_since(c, run)]
        history_progress(run=run, found=len(fresh))
        for ref in fresh:
            _conversation(account, bucket, run, ref)
        # A cursor that does not move would read the same page forever.
        if len(fresh) < len(page.conversations) or page.after in {"", after}:
            return
        after = page.after
        history_cursor_keep(run=run, cursor=after)


def _updated_since(ref: ConversationRef, run: HistorySync) -> bool:
    return run.since is None or ref.updated_time is None or ref.updated_time > run.since


def _conversation(
    account: InstagramAccount, bucket: Bucket, run: HistorySync, ref: ConversationRef
) -> None:
    detail = _call(account, bucket, lambda c: c.get_conversation(conversation_id=ref.id))
    messages = [_complete(account, bucket, m) for m in detail.messages]
    stored = history_conversation_store(account=account, detail=detail, messages=messages)
    history_progress(run=run, done=1, read=len(messages), stored=stored)


def _complete(account: InstagramAccount, bucket: Bucket, message: HistoryMessage) -> HistoryMessage:
    """A message listed without its sender or time is read on its own (once)."""
    if message.from_id and message.created_time is not None:
        return message
    return _call(account, bucket, lambda c: c.get_history_message(mid=message.mid))


def _call(account: InstagramAccount, bucket: Bucket, call: Callable[[GraphClient], T]) -> T:
    """One paced call, retried after throttles and transient failures."""
    attempt = 0
    while True:
        try:
            with account_call(account, doing="reading its message history") as client:
                gate_wait(bucket=bucket)  # the last step before the call leaves
                return call(client)
        except (RateLimitedError, TransientError) as error:
            attempt += 1
            delay = retry_delay(attempt=attempt, error=error)
            if isinstance(error, RateLimitedError):
                bucket_pause(bucket=bucket, seconds=delay)
            if attempt > CALL_RETRIES or delay > SLEEP_MAX:
                raise _Stop(error, retry_in=delay) from error
            logger.info("history call for account %s: retry in %.0fs", account.pk, delay)
            _sleep(delay)
        except GraphError as error:  # a refused token, or a permanent refusal: stop
            raise _Stop(error, retry_in=None) from error


def _in_words(error: GraphError) -> str:
    if isinstance(error, AuthError):
        return f"Instagram refused the token: reconnect the account ({error.code_label})."
    if isinstance(error, RateLimitedError):
        return f"Instagram asked us to slow down; the sync continues later ({error.code_label})."
    if isinstance(error, TransientError):
        return f"Instagram did not answer; the sync continues later ({error.code_label})."
    return f"Instagram refused: {error.message[:300]} ({error.code_label})"


def _result(run: HistorySync, *, error: str = "", retry_in: float | None = None) -> SyncResult:
    run.refresh_from_db()
    return SyncResult(
        conversations=run.conversations_done,
        messages_read=run.messages_read,
        messages_stored=run.messages_stored,
        error=error,
        retry_in=retry_in,
    )
