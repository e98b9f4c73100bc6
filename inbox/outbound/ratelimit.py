"""Per-account send rate limits, shared by every worker.

Meta caps each business account at 100 calls/s for text, links, reactions and stickers and
10 calls/s for audio and video. Two mechanisms per bucket:

- `reserve` hands out *slots*, evenly spaced, to spread a backlog over time: a task whose
  slot is far re-schedules itself for that moment instead of sleeping in the worker, so a
  thousand queued replies cost a thousand timers, not a thousand polls.
- `admit` is the gate right before each call: it lets a call through only if the previous
  one left at least one interval earlier, and records it. A task that wakes up late (a busy
  worker, Celery's timer) can therefore never bunch with punctual ones: the calls that
  actually leave are spaced, so no one-second window holds more than the cap.

Both are spaced for `HEADROOM` of the cap, the margin for network jitter between our clock
and Meta's counters.

With Redis (`REDIS_URL`) the state is one key per bucket, updated by an atomic Lua script on
Redis's own clock, so every worker on every host shares it. Without Redis (the embedded
broker) it lives in the process: run a single worker process there, or the cap applies per
process.

Only `inbox.outbound.pacing` calls this module: sends ask pacing, never the bucket.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis
from django.conf import settings

HEADROOM = 0.93
# How far ahead a slot may be reserved; a caller further back in line comes back later.
MAX_RESERVE_AHEAD = 60.0
KEY_PREFIX = "inbox:ratelimit:"


@dataclass(frozen=True)
class Slot:
    delay: float  # seconds from now until the call may leave
    reserved: bool  # False: the line is longer than MAX_RESERVE_AHEAD; ask again later


class Limiter(Protocol):
    def reserve(self, *, bucket: str, rate: float) -> Slot: ...

    def admit(self, *, bucket: str, rate: float) -> float:
        """0: go now (recorded as a call); otherwise seconds to wait before asking again."""
        ...

    def pause(self, *, bucket: str, seconds: float) -> None:
        """Meta throttled the account: no slot and no call before `seconds` from now."""
        ...


def bucket_rate(kind: str) -> float:
    """Calls per second a bucket allows: `media` (audio, video) or `standard` (the rest)."""
    cap = (
        settings.INSTAGRAM_RATE_LIMIT_MEDIA
        if kind == "media"
        else settings.INSTAGRAM_RATE_LIMIT_TEXT
    )
    return max(cap * HEADROOM, 0.01)


def bucket_key(*, account_id: int, kind: str) -> str:
    return f"{account_id}:{kind}"


class LocalLimiter:
    """In-process slots for the embedded broker (no Redis)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._next_free: dict[str, float] = {}
        self._next_call: dict[str, float] = {}

    def reserve(self, *, bucket: str, rate: float) -> Slot:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_free.get(bucket, now))
            if slot - now > MAX_RESERVE_AHEAD:
                return Slot(delay=slot - now, reserved=False)
            self._next_free[bucket] = slot + 1.0 / rate
            return Slot(delay=slot - now, reserved=True)

    def admit(self, *, bucket: str, rate: float) -> float:
        with self._lock:
            now = self._clock()
            wait = self._next_call.get(bucket, now) - now
            if wait > 0:
                return wait
            self._next_call[bucket] = now + 1.0 / rate
            return 0.0

    def pause(self, *, bucket: str, seconds: float) -> None:
        with self._lock:
            now = self._clock()
            for line in (self._next_free, self._next_call):
                line[bucket] = max(line.get(bucket, now), now + seconds)


# KEYS[1] the bucket; ARGV[1] seconds between slots; ARGV[2] how far ahead one may reserve.
# Returns {reserved (0/1), delay as a string}: Lua numbers would lose the microseconds.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or now) or now)
local delay = slot - now
if delay > tonumber(ARGV[2]) then
  return {0, string.format('%.6f', delay)}
end
local next_free = slot + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.6f', next_free),
           'PX', math.ceil((next_free - now) * 1000) + 1000)
return {1, string.format('%.6f', delay)}
"""

# KEYS[1] the bucket's gate; ARGV[1] seconds between calls. Returns the wait as a string.
_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wait = (tonumber(redis.call('GET', KEYS[1]) or now) or now) - now
if wait > 0 then
  return string.format('%.6f', wait)
end
local next_call = now + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.6f', next_call),
           'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
return '0'
"""

# KEYS the bucket's slots and gate; ARGV[1] seconds during which nothing may leave.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
for _, key in ipairs(KEYS) do
  local until_ = math.max(now + tonumber(ARGV[1]), tonumber(redis.call('GET', key) or 0) or 0)
  redis.call('SET', key, string.format('%.6f', until_),
             'PX', math.ceil((until_ - now) * 1000) + 1000)
end
return 1
"""


# Seconds one call to Redis may take (connect, then answer) before the limiter gives up.
REDIS_TIMEOUT = 2.0


class RedisLimiter:
    """Slots shared by every worker through Redis, on Redis's clock."""

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        self._reserve = self._redis.register_script(_RESERVE)
        self._admit = self._redis.register_script(_ADMIT)
        self._pause = self._redis.register_script(_PAUSE)

    def reserve(self, *, bucket: str, rate: float) -> Slot:
        reserved, delay = self._reserve(
            keys=[KEY_PREFIX + bucket], args=[f"{1.0 / rate:.6f}", MAX_RESERVE_AHEAD]
        )
        return Slot(delay=float(delay), reserved=bool(int(reserved)))

    def admit(self, *, bucket: str, rate: float) -> float:
        return float(self._admit(keys=[f"{KEY_PREFIX}{bucket}:gate"], args=[f"{1.0 / rate:.6f}"]))

    def pause(self, *, bucket: str, seconds: float) -> None:
        keys = [KEY_PREFIX + bucket, f"{KEY_PREFIX}{bucket}:gate"]
        self._pause(keys=keys, args=[f"{seconds:.3f}"])


_limiter: Limiter | None = None
_limiter_url: str | None = None


def send_limiter() -> Limiter:
    """The process's limiter: Redis when configured, otherwise in-process."""
    global _limiter, _limiter_url
    url = settings.REDIS_URL
    if _limiter is None or _limiter_url != url:
        _limiter = RedisLimiter(url) if url else LocalLimiter()
        _limiter_url = url
    return _limiter
