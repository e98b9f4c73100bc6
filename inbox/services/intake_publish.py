"""Publishing Celery tasks from places that must not fail or stall because of the broker.

The webhook request publishes after its row is committed; if the broker is down the row is
already safe and the ledger sweep re-queues it, so a failed publish is logged and swallowed.
Settings make one publish fail fast (a single connection attempt with a short connect
timeout); on top of that, after a failure this process skips publishing for a few seconds, so
a burst of webhooks during an outage does not pay even that, one request after another.

`task_publish_once` goes further for tasks that take all the work they find: it publishes
nothing while a task published under the same key is still waiting in the queue.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any

import redis
from celery import Task
from celery.exceptions import Retry
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

PAUSE_AFTER_FAILURE = 5.0  # seconds
# A queued task's mark outlives it by at most this long (a task lost from the broker, say):
# then the next caller publishes again.
QUEUED_MARK_SECONDS = 10

_lock = threading.Lock()
_paused_until = 0.0


def task_publish(task: Task, *args: Any, countdown: float | None = None) -> bool:
    """`task.delay(*args)` (or not before `countdown` seconds), never raising. Returns True
    when the task was handed over."""
    global _paused_until
    eager = bool(task.app.conf.task_always_eager)
    if _publishing_paused(task, args):
        return False
    try:
        if countdown:
            task.apply_async(args, countdown=countdown)
        else:
            task.delay(*args)
    except Retry:
        # Eager mode only: the task asked to run again later; without a broker it cannot.
        logger.info("task %s%s asked for a retry (eager mode: not run again)", task.name, args)
        return False
    except Exception as e:
        if eager:
            # Eager mode (tests, no broker): the task itself ran and failed; it logged why.
            logger.warning("task %s%s failed: %s", task.name, args, type(e).__name__)
            return False
        with _lock:
            _paused_until = time.monotonic() + PAUSE_AFTER_FAILURE
        logger.warning(
            "could not publish %s%s (%s: %s); the sweep will retry",
            task.name,
            args,
            type(e).__name__,
            str(e)[:200],
        )
        return False
    return True


def _publishing_paused(task: Task, args: tuple[Any, ...]) -> bool:
    if task.app.conf.task_always_eager or time.monotonic() >= _paused_until:
        return False
    logger.info("broker unavailable recently: %s%s left for the sweep", task.name, args)
    return True


def task_publish_once(task: Task, *args: Any, key: str, countdown: float | None = None) -> bool:
    """`task_publish`, unless a task published under `key` has not started yet: such a task
    calls `task_queued_clear(key)` before it looks for work, so it will find the caller's
    (committed) work too. The mark is an atomic add shared by every process. Returns True
    when a task is queued, by this call or an earlier one."""
    if _publishing_paused(task, args):
        return False  # the broker (Redis, where the marks live too) was just found down
    try:
        if not _marks().add(key, QUEUED_MARK_SECONDS):
            return True
    except Exception as e:  # the mark is an optimisation: without it, publish every time
        logger.warning("queued marks unavailable (%s): publishing anyway", type(e).__name__)
        return task_publish(task, *args, countdown=countdown)
    if task_publish(task, *args, countdown=countdown):
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


def publish_pause_reset() -> None:
    """Forget a past failure (tests, or once the broker is known to be back)."""
    global _paused_until
    with _lock:
        _paused_until = 0.0
