"""Per-account send rate limits, shared by every worker.

Meta caps each business account at 100 calls/s for text, links, reactions and stickers and
10 calls/s for audio and video. The limiter hands out *slots*: one call per slot, slots
evenly spaced (a GCRA with no burst), so calls never bunch into a second. A caller reserves
the next free slot; when it is close it waits in the worker, when it is far it re-schedules
the task for that moment and keeps the slot (see `inbox.services.delivery`).

Slots are spaced for `HEADROOM` of the cap: a call may leave a little after its slot (worker
and network jitter), and that margin keeps every one-second window at or under Meta's cap.

With Redis (`REDIS_URL`) the state is one key per bucket, updated by an atomic Lua script on
Redis's own clock, so every worker on every host shares it. Without Redis (the embedded
broker) it lives in the process: run a single worker process there, or the cap applies per
process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

import redis
from django.conf import settings

HEADROOM = 0.93
# How late a call may leave after its slot and still use it (see HEADROOM).
SLOT_TOLERANCE = 0.04
# How far ahead a slot may be reserved; a caller further back in line comes back later.
MAX_RESERVE_AHEAD = 60.0
KEY_PREFIX = "inbox:ratelimit:"


@dataclass(frozen=True)
class Slot:
    delay: float  # seconds from now until the call may leave
    reserved: bool  # False: the line is longer than MAX_RESERVE_AHEAD; ask again later


class Limiter(Protocol):
    def reserve(self, *, bucket: str, rate: float) -> Slot: ...

    def pause(self, *, bucket: str, seconds: float) -> None: ...


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

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_free: dict[str, float] = {}

    def reserve(self, *, bucket: str, rate: float) -> Slot:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_free.get(bucket, now))
            if slot - now > MAX_RESERVE_AHEAD:
                return Slot(delay=slot - now, reserved=False)
            self._next_free[bucket] = slot + 1.0 / rate
            return Slot(delay=slot - now, reserved=True)

    def pause(self, *, bucket: str, seconds: float) -> None:
        with self._lock:
            now = time.monotonic()
            self._next_free[bucket] = max(self._next_free.get(bucket, now), now + seconds)


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

# KEYS[1] the bucket; ARGV[1] seconds during which nothing may leave.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ = math.max(now + tonumber(ARGV[1]), tonumber(redis.call('GET', KEYS[1]) or 0) or 0)
redis.call('SET', KEYS[1], string.format('%.6f', until_),
           'PX', math.ceil((until_ - now) * 1000) + 1000)
return 1
"""


class RedisLimiter:
    """Slots shared by every worker through Redis, on Redis's clock."""

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._reserve = self._redis.register_script(_RESERVE)
        self._pause = self._redis.register_script(_PAUSE)

    def reserve(self, *, bucket: str, rate: float) -> Slot:
        reserved, delay = self._reserve(
            keys=[KEY_PREFIX + bucket], args=[f"{1.0 / rate:.6f}", MAX_RESERVE_AHEAD]
        )
        return Slot(delay=float(delay), reserved=bool(int(reserved)))

    def pause(self, *, bucket: str, seconds: float) -> None:
        self._pause(keys=[KEY_PREFIX + bucket], args=[f"{seconds:.3f}"])


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
