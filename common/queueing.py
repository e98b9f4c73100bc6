"""Queueing Celery tasks from places that must not fail or stall because of the broker.

Every task this project queues is first stored as a row (a webhook in the ledger, a reply
in QUEUED state, an account in NEEDS_RECONNECT), so a lost publish delays work and loses
none of it: each row kind has a sweep that queues it again. A failed publish is therefore
logged and swallowed, never raised into a webhook request, an agent's reply or a worker.

Settings make one publish fail fast (a single connection attempt with a short connect
timeout); on top of that, after a failure this process skips publishing for a few seconds,
so a burst of webhooks or replies during an outage does not pay even that, one after
another.

Tasks are named, not imported (`task_queue("inbox.tasks.message_send_task", 7)`): services
queue tasks, and tasks call services, never the other way round. Each app imports its task
modules when it is ready, so every name resolves in every process.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import Task, current_app
from celery.exceptions import Retry

logger = logging.getLogger(__name__)

PAUSE_AFTER_FAILURE = 5.0  # seconds

_lock = threading.Lock()
_paused_until = 0.0


def task_named(name: str) -> Task:
    """The registered task of this name (a KeyError for a name no app registers: a bug)."""
    return current_app.tasks[name]


def task_queue(
    name: str,
    *args: Any,
    kwargs: dict[str, Any] | None = None,
    countdown: float | None = None,
) -> bool:
    """Queue the task `name` with these arguments (not before `countdown` seconds), never
    raising for the broker. Returns True when the task was handed over."""
    global _paused_until
    task = task_named(name)
    if task_queue_paused(name, args):
        return False
    try:
        if countdown is None:
            task.apply_async(args, kwargs)
        else:
            task.apply_async(args, kwargs, countdown=countdown)
    except Retry:
        # Eager mode only: the task asked to run again later; without a broker it cannot.
        logger.info("task %s%s asked for a retry (eager mode: not run again)", name, args)
        return False
    except Exception as e:
        if task.app.conf.task_always_eager:
            # Eager mode (tests, no broker): the task itself ran and failed; it logged why.
            logger.warning("task %s%s failed: %s", name, args, type(e).__name__)
            return False
        with _lock:
            _paused_until = time.monotonic() + PAUSE_AFTER_FAILURE
        logger.warning(
            "could not publish %s%s (%s: %s); the sweep will retry",
            name,
            args,
            type(e).__name__,
            str(e)[:200],
        )
        return False
    return True


def task_queue_paused(name: str, args: tuple[Any, ...] = ()) -> bool:
    """True while a recent failure to reach the broker keeps this process from trying."""
    if time.monotonic() >= _paused_until or task_named(name).app.conf.task_always_eager:
        return False
    logger.info("broker unavailable recently: %s%s left for the sweep", name, args)
    return True


def task_queue_pause_reset() -> None:
    """Forget a past failure (tests, or once the broker is known to be back)."""
    global _paused_until
    with _lock:
        _paused_until = 0.0
