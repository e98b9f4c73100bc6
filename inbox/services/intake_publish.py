"""Publishing Celery tasks from places that must not fail or stall because of the broker.

The webhook request publishes after its row is committed; if the broker is down the row is
already safe and the ledger sweep re-queues it, so a failed publish is logged and swallowed.
Settings make one publish fail fast (a single connection attempt with a short connect
timeout); on top of that, after a failure this process skips publishing for a few seconds, so
a burst of webhooks during an outage does not pay even that, one request after another.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import Task
from celery.exceptions import Retry

logger = logging.getLogger(__name__)

PAUSE_AFTER_FAILURE = 5.0  # seconds

_lock = threading.Lock()
_paused_until = 0.0


def task_publish(task: Task, *args: Any) -> bool:
    """`task.delay(*args)`, never raising. Returns True when the task was handed over."""
    global _paused_until
    eager = bool(task.app.conf.task_always_eager)
    if not eager and time.monotonic() < _paused_until:
        logger.info("broker unavailable recently: %s%s left for the sweep", task.name, args)
        return False
    try:
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


def publish_pause_reset() -> None:
    """Forget a past failure (tests, or once the broker is known to be back)."""
    global _paused_until
    with _lock:
        _paused_until = 0.0
