"""Queueing the processing of stored webhook events, a few tasks for a burst.

The webhook request queues processing after its row is committed (`common.queueing`: a
broker outage is logged and swallowed; the ledger sweep queues the row again). A processing
task drains every fresh event it finds, so while one is queued and not started, a new event
needs no task of its own: `task_queue_once` publishes nothing while a task queued under the
same key is still waiting.
"""

from __future__ import annotations

import functools
import logging

import redis
from django.conf import settings
from django.core.cache import cache

from common.queueing import task_queue, task_queue_paused

logger = logging.getLogger(__name__)

PROCESS_TASK = "inbox.tasks.webhook_event_process_task"
# Held while a coalesced processing task waits in the queue.
TASK_QUEUED_KEY = "inbox:intake:task-queued"
# A queued task's mark outlives it by at most this long (a task lost from the broker, say):
# then the next caller publishes again.
QUEUED_MARK_SECONDS = 10


def webhook_event_publish(*, event_id: int, coalesce: bool = False) -> None:
    """Queue processing. Never raises: if the broker is down, the sweep picks the row up.

    `coalesce` (a new event, or a drain out of time): publish nothing while a processing task
    published this way has not started yet. Every task drains the fresh events it finds once
    it starts (`webhook_events_drain`), so that queued task takes this event too: a burst of
    webhooks costs a few tasks, not one each. Only where every process shares the cache
    (Redis); with a per-process cache the worker could not clear the web's mark.

    The task starts at once: a lone message is stored without waiting. A burst gathers
    behind it, since the drain waits `INTAKE_GATHER_SECONDS` after a group smaller than a
    full one (it used to start that late too, which added 0.2 s to every quiet message).
    """
    if coalesce and settings.INTAKE_COALESCE_PUBLISHES:
        task_queue_once(PROCESS_TASK, event_id, key=TASK_QUEUED_KEY)
    else:
        task_queue(PROCESS_TASK, event_id)


def webhook_event_publish_new(event_id: int) -> None:
    """A newly stored event's publish, coalesced: the ledger's `on_stored`, called with the
    newest id of the rows one statement committed."""
    webhook_event_publish(event_id=event_id, coalesce=True)


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


def task_queue_once(name: str, *args: object, key: str) -> bool:
    """`task_queue`, unless a task queued under `key` has not started yet: such a task
    calls `task_queued_clear(key)` before it looks for work, so it will find the caller's
    (committed) work too. The mark is an atomic add shared by every process. Returns True
    when a task is queued, by this call or an earlier one."""
    if task_queue_paused(name, args):
        return False  # the broker (Redis, where the marks live too) was just found down
    try:
        if not _marks().add(key, QUEUED_MARK_SECONDS):
            return True
    except Exception as e:  # the mark is an optimisation: without it, publish every time
        logger.warning("queued marks unavailable (%s): publishing anyway", type(e).__name__)
        return task_queue(name, *args)
    if task_queue(name, *args):
        return True
    task_queued_clear(key)  # nothing is queued after all: let the next caller try
    return False


def task_queued_mark(key: str) -> None:
    """Set the mark without publishing: the caller will look for the work itself (clearing
    the mark first), so callers until then need not publish."""
    try:
        _marks().add(key, QUEUED_MARK_SECONDS)
    except Exception as e:  # without it, callers publish: more tasks, nothing lost
        logger.warning("queued marks unavailable (%s): %s not set", type(e).__name__, key)


def task_queued_clear(key: str) -> None:
    """The task published under `key` has started (or never will): callers publish again."""
    try:
        _marks().delete(key)
    except Exception as e:  # it expires on its own
        logger.warning("queued marks unavailable (%s): %s left to expire", type(e).__name__, key)


class _RedisMarks:
    """Marks in Redis through one long-lived client. Django's cache would build a client
    object per call (0.2 ms of CPU in every webhook request) and waits on a dead server for
    as long as the system lets a connect hang; a webhook request must not."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)

    def add(self, key: str, seconds: int) -> bool:
        return bool(self.client.set(key, 1, nx=True, ex=seconds))

    def delete(self, key: str) -> None:
        self.client.delete(key)


class _CacheMarks:
    """Marks in Django's cache: without Redis, where the cache is per process (only the
    test suite coalesces there)."""

    def add(self, key: str, seconds: int) -> bool:
        return cache.add(key, 1, timeout=seconds)

    def delete(self, key: str) -> None:
        cache.delete(key)


@functools.cache
def _marks() -> _RedisMarks | _CacheMarks:
    return _RedisMarks(settings.REDIS_URL) if settings.REDIS_URL else _CacheMarks()
