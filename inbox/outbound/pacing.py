"""Pacing sends to Meta's per-account rate limit (see `inbox.outbound.ratelimit`).

A reply books a slot when it is queued and its task is published once, for that moment
(`reserve_first_slot`, `countdown_for`). When the task runs it waits out the last few
milliseconds (`wait_for_slot`), prepares the request, and passes the gate right before the
request leaves (`pass_gate`). Anything further off goes back to Celery as a countdown: no
worker sleeps for long.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings

from .ratelimit import bucket_key, bucket_rate, send_limiter

logger = logging.getLogger(__name__)

# A slot this close is waited for in the worker; a later one re-schedules the task to wake
# up SLOT_WAKE_EARLY before it. Waking late wastes the slot (the gate spaces calls from the
# last one that left), waking early costs a sleep that holds a worker: both are small.
SLOT_SLEEP_MAX = 0.04
SLOT_WAKE_EARLY = 0.02
# A closed gate this close is waited for, a few times at most.
GATE_MAX_WAIT = 0.25
GATE_TRIES = 5


@dataclass(frozen=True)
class Outcome:
    retry_in: float | None = None  # run this task again after so many seconds
    slot_at: float | None = None  # wall-clock time of the rate-limit slot that run holds
    follow_up: int | None = None  # the conversation's next queued reply, free to go now
    attempt: int | None = None  # for reactions: the number of the next run's attempt


def bucket_kind(attachments: list[Any]) -> str:
    """Audio and video have their own, lower cap; everything else shares the standard one."""
    types = {str(a.get("type", "")) for a in attachments if isinstance(a, dict)}
    return "media" if types & {"audio", "video"} else "standard"


def reserve_first_slot(*, account_id: int, attachments: list[Any]) -> float | None:
    """Book a reply's rate-limit slot as it is queued, so its task is published once, for
    that moment (wall-clock seconds). None: no slot booked; the task asks for one itself."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None  # tasks run inline: nothing could wait for a slot
    kind = bucket_kind(attachments)
    try:
        slot = send_limiter().reserve(
            bucket=bucket_key(account_id=account_id, kind=kind), rate=bucket_rate(kind)
        )
    except redis.RedisError:
        logger.warning("rate limiter unavailable; account %s's reply books no slot", account_id)
        return None
    return time.time() + slot.delay if slot.reserved else None


def countdown_for(slot_at: float | None) -> float | None:
    """When to run a task that holds the slot at `slot_at` (a little before it)."""
    if slot_at is None:
        return None
    return max(slot_at - time.time() - SLOT_WAKE_EARLY, 0.0)


def wait_for_slot(*, bucket: str, rate: float, slot_at: float | None) -> Outcome | None:
    """Wait until this call's slot. None: it is time. An Outcome: the slot is too far off
    to wait for in the worker; come back then (the slot stays booked)."""
    try:
        if slot_at is None:
            slot = send_limiter().reserve(bucket=bucket, rate=rate)
            if not slot.reserved:  # the line is over a minute long
                return Outcome(retry_in=slot.delay / 2)
            slot_at = time.time() + slot.delay
    except redis.RedisError:
        logger.warning("rate limiter unavailable for %s; trying again shortly", bucket)
        return Outcome(retry_in=random.uniform(2, 5))
    ahead = slot_at - time.time()
    if ahead > SLOT_SLEEP_MAX:
        return Outcome(retry_in=countdown_for(slot_at), slot_at=slot_at)
    time.sleep(max(ahead, 0.0))
    return None


def pass_gate(*, bucket: str, rate: float) -> Outcome | None:
    """The gate, passed right before the request leaves: however late this run woke up,
    calls leave spaced. None: go now (the call is recorded). An Outcome: come back later."""
    try:
        for _ in range(GATE_TRIES):
            wait = send_limiter().admit(bucket=bucket, rate=rate)
            if wait <= 0:
                return None
            if wait > GATE_MAX_WAIT:
                break
            time.sleep(wait)
    except redis.RedisError:
        logger.warning("rate limiter unavailable for %s; trying again shortly", bucket)
        return Outcome(retry_in=random.uniform(2, 5))
    # Closed for longer than is worth sleeping (a slow cap, or Meta paused the account):
    # keep this turn and come back when the gate opens.
    return Outcome(retry_in=wait, slot_at=time.time() + wait)


def take_slot(*, bucket: str, rate: float, slot_at: float | None) -> Outcome | None:
    """Both steps at once, for calls with nothing to prepare in between."""
    return wait_for_slot(bucket=bucket, rate=rate, slot_at=slot_at) or pass_gate(
        bucket=bucket, rate=rate
    )
