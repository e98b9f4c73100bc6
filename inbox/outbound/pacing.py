"""When a send may leave: Meta's per-account rate limit, and the back-off after a failure.

This is the only module that talks to the bucket (`inbox.outbound.ratelimit`). A send names
its bucket (`bucket_for`). A reply books a slot when it is queued and its task is published
once, for that moment (`slot_reserve`, `slot_countdown`). When the task runs it waits out
the last few milliseconds (`slot_wait`), prepares the request, and passes the gate right
before the request leaves (`gate_pass`). Anything further off goes back to Celery as a
countdown: no worker sleeps for long. When Meta throttles an account, its bucket is paused
(`bucket_pause`); a failed call is tried again after `retry_delay`.

A Redis outage never fails a send: a slot that cannot be booked is asked for again shortly,
and a pause that cannot be recorded is logged and skipped.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings

from instagram.errors import GraphError

from .ratelimit import REDIS_TIMEOUT, bucket_key, bucket_rate, send_limiter

logger = logging.getLogger(__name__)

# A slot this close is waited for in the worker; a later one re-schedules the task to wake
# up SLOT_WAKE_EARLY before it. Waking late wastes the slot (the gate spaces calls from the
# last one that left), waking early costs a sleep that holds a worker: both are small.
SLOT_SLEEP_MAX = 0.04
SLOT_WAKE_EARLY = 0.02
# A closed gate this close is waited for, a few times at most.
GATE_MAX_WAIT = 0.25
GATE_TRIES = 5
# Exponential back-off with jitter: about 2 s, 6 s, 18 s, 54 s, 162 s, then capped.
BACKOFF_FIRST = 2.0
BACKOFF_FACTOR = 3.0
BACKOFF_MAX = 300.0
# The longest wait Meta's own hints (Retry-After, usage headers) can impose on one retry.
HINT_MAX = 3600.0
# A reply's lease in "sending" is never shorter than this (see send_lease).
SEND_LEASE_MIN = 60.0
SEND_LEASE_MARGIN = 10.0


@dataclass(frozen=True)
class SendOutcome:
    """What one attempt at a send tells its task to do next (nothing, by default)."""

    retry_in: float | None = None  # run this task again after so many seconds
    slot_at: float | None = None  # wall-clock time of the rate-limit slot that run holds
    follow_up: int | None = None  # the conversation's next queued reply, free to go now
    attempt: int | None = None  # for reactions: the number of the next run's attempt


@dataclass(frozen=True)
class Bucket:
    """One account's line for one kind of send, and the calls per second it allows."""

    key: str
    rate: float


def bucket_for(*, account_id: int, attachments: Sequence[Any] = ()) -> Bucket:
    """The bucket a send takes its turn in: audio and video have their own, lower cap;
    everything else (text, links, images, stickers, reactions) shares the standard one."""
    types = {str(a.get("type", "")) for a in attachments if isinstance(a, dict)}
    kind = "media" if types & {"audio", "video"} else "standard"
    return Bucket(key=bucket_key(account_id=account_id, kind=kind), rate=bucket_rate(kind))


def slot_reserve(*, account_id: int, attachments: Sequence[Any]) -> float | None:
    """Book a reply's rate-limit slot as it is queued, so its task is published once, for
    that moment (wall-clock seconds). None: no slot booked; the task asks for one itself."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None  # tasks run inline: nothing could wait for a slot
    bucket = bucket_for(account_id=account_id, attachments=attachments)
    try:
        slot = send_limiter().reserve(bucket=bucket.key, rate=bucket.rate)
    except redis.RedisError:
        logger.warning("rate limiter unavailable; account %s's reply books no slot", account_id)
        return None
    return time.time() + slot.delay if slot.reserved else None


def slot_countdown(slot_at: float | None) -> float | None:
    """When to run a task that holds the slot at `slot_at` (a little before it)."""
    if slot_at is None:
        return None
    return max(slot_at - time.time() - SLOT_WAKE_EARLY, 0.0)


def slot_wait(*, bucket: Bucket, slot_at: float | None) -> SendOutcome | None:
    """Wait until this call's slot. None: it is time. A SendOutcome: the slot is too far off
    to wait for in the worker; come back then (the slot stays booked)."""
    try:
        if slot_at is None:
            slot = send_limiter().reserve(bucket=bucket.key, rate=bucket.rate)
            if not slot.reserved:  # the line is over a minute long
                return SendOutcome(retry_in=slot.delay / 2)
            slot_at = time.time() + slot.delay
    except redis.RedisError:
        return _limiter_down(bucket)
    ahead = slot_at - time.time()
    if ahead > SLOT_SLEEP_MAX:
        return SendOutcome(retry_in=slot_countdown(slot_at), slot_at=slot_at)
    time.sleep(max(ahead, 0.0))
    return None


def gate_pass(*, bucket: Bucket) -> SendOutcome | None:
    """The gate, passed right before the request leaves: however late this run woke up,
    calls leave spaced. None: go now (the call is recorded). A SendOutcome: come back later."""
    try:
        for _ in range(GATE_TRIES):
            wait = send_limiter().admit(bucket=bucket.key, rate=bucket.rate)
            if wait <= 0:
                return None
            if wait > GATE_MAX_WAIT:
                break
            time.sleep(wait)
    except redis.RedisError:
        return _limiter_down(bucket)
    # Closed for longer than is worth sleeping (a slow cap, or Meta paused the account):
    # keep this turn and come back when the gate opens.
    return SendOutcome(retry_in=wait, slot_at=time.time() + wait)


def slot_take(*, bucket: Bucket, slot_at: float | None) -> SendOutcome | None:
    """Both steps at once, for calls with nothing to prepare in between."""
    return slot_wait(bucket=bucket, slot_at=slot_at) or gate_pass(bucket=bucket)


def _limiter_down(bucket: Bucket) -> SendOutcome:
    logger.warning("rate limiter unavailable for %s; trying again shortly", bucket.key)
    return SendOutcome(retry_in=random.uniform(2, 5))


def bucket_pause(*, bucket: Bucket, seconds: float) -> None:
    """Meta throttled the account: no slot and no call in this bucket for `seconds` (at most
    HINT_MAX). Without the limiter the pause is skipped: the retry's own delay still holds."""
    logger.info("holding back %s for %.0fs at Meta's request", bucket.key, seconds)
    try:
        send_limiter().pause(bucket=bucket.key, seconds=min(seconds, HINT_MAX))
    except redis.RedisError:
        logger.warning("rate limiter unavailable; %s not paused", bucket.key)


def send_lease() -> timedelta:
    """How long a reply may stay "sending" before its worker is taken for dead.

    The lease starts at the claim; a live run then only passes the gate and makes one call.
    The gate sleeps at most GATE_TRIES x GATE_MAX_WAIT, each try one Redis call bounded by
    REDIS_TIMEOUT (11.25 s). The call is bounded by the client's timeouts
    (`INSTAGRAM_HTTP_TIMEOUT`, 3.05 s, 15 s): a connect per address (IPv6, then IPv4) and a
    read timeout that bounds each read, not the whole answer; Meta's answer to a send is a
    few hundred bytes, headers and body at most two reads (6.1 s + 30 s). That is 47.35 s
    with the defaults; the margin covers a DNS lookup on a new connection (pooled ones need
    none). Longer timeouts in the settings lengthen the lease with them. Recording the
    answer is not covered and need not be: a reply marked unknown still becomes sent when
    its answer (or its echo) arrives."""
    connect, read = settings.INSTAGRAM_HTTP_TIMEOUT
    gate = GATE_TRIES * (GATE_MAX_WAIT + REDIS_TIMEOUT)
    longest = gate + 2 * connect + 2 * read + SEND_LEASE_MARGIN
    return timedelta(seconds=max(SEND_LEASE_MIN, longest))


def retry_delay(*, attempt: int, error: GraphError | None = None) -> float:
    """Seconds before retry number `attempt` (1 = the first retry): the back-off, or longer
    when Meta said how long to wait (Retry-After) or that the account's allowance runs out."""
    ceiling = min(BACKOFF_FIRST * BACKOFF_FACTOR ** (attempt - 1), BACKOFF_MAX)
    delay = random.uniform(ceiling / 2, ceiling)
    if error is not None:
        hint = error.backoff_hint
        if hint:
            delay = max(delay, min(hint, HINT_MAX))
        elif error.usage is not None and error.usage.is_high:
            delay = max(delay, 10.0)
    return delay


# History calls are spaced wider than sends. At 93 % of 2 a second, a call that leaves
# 75 ms after the gate let it through (a busy worker, a pause of the process) lands within
# one second of the two after it: bench/history.py saw 3 in a second on a loaded machine,
# where the gate-to-wire delay reached 87 ms at p99. At 80 % calls are 0.625 s apart, and
# one may be 250 ms late with every 1-second window still holding at most 2.
HISTORY_HEADROOM = 0.8


def history_bucket(*, account_id: int) -> Bucket:
    """An account's line for Conversations API calls (history sync), shared by every worker:
    Meta allows 2 calls a second per account; the headroom keeps any 1-second window at 2."""
    rate = max(settings.HISTORY_SYNC_CALLS_PER_SECOND * HISTORY_HEADROOM, 0.01)
    return Bucket(key=bucket_key(account_id=account_id, kind="history"), rate=rate)


def gate_wait(*, bucket: Bucket) -> None:
    """Wait in the worker until the bucket's gate lets one call through (a history sync
    makes its calls one after another, so it has nothing better to do meanwhile). Without
    the limiter, calls are still spaced in this process."""
    while True:
        try:
            wait = send_limiter().admit(bucket=bucket.key, rate=bucket.rate)
        except redis.RedisError:
            logger.warning("rate limiter unavailable for %s; spacing calls locally", bucket.key)
            time.sleep(1.0 / bucket.rate)
            return
        if wait <= 0:
            return
        time.sleep(min(wait, HISTORY_GATE_SLEEP_MAX))


HISTORY_GATE_SLEEP_MAX = 5.0
