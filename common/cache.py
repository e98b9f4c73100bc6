"""Django's Redis cache, keeping its Redis client.

Django's RedisCache builds a new `redis.Redis` object (around its shared connection pool) on
every call, and building one fills a table of some 160 reply handlers: on a live poll, which
reads its session from the cache, that was an eighth of the CPU the poll cost. A `redis.Redis`
is safe to share between threads (each command takes a connection from the pool), so one is
kept per pool.

It also keeps small hashes whose fields are written and read back in one round trip
(`cache_hash_notes`): the presence notes of the thread polls, several hashes at a time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

# Set fields of a hash (ARGV: its life in seconds, then field, value, field, value...), renew
# the hash's life and read it back: one command (a script run by its digest). A pipeline of
# three cost the thread poll's presence note 0.15-0.17 ms of the web process's CPU, the
# script 0.13 ms.
_HASH_NOTE_SCRIPT = """
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return redis.call('HGETALL', KEYS[1])
"""


class _KeptClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._scripts: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = super().get_client(key, write=write)
        return client

    def hash_note_script(self) -> Any:
        """The hash note's script on the writing server's client (loaded there on first use,
        and again should the server have lost it)."""
        index = self._get_connection_pool_index(True)  # type: ignore[attr-defined]
        script = self._scripts.get(index)
        if script is None:
            client = self.get_client(write=True)
            script = self._scripts[index] = client.register_script(_HASH_NOTE_SCRIPT)
        return script


class KeptClientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _KeptClient

    def hash_notes(
        self, notes: Mapping[str, Mapping[str, str]], timeout: int
    ) -> dict[str, dict[str, str]]:
        """Set fields of each hash in `notes` (key: {field: value}) and read each whole hash
        back, its life renewed to `timeout` seconds: one round trip for them all (the script
        once per hash, pipelined when there are several)."""
        script = self._cache.hash_note_script()  # type: ignore[attr-defined]
        calls = [
            (key, [self.make_and_validate_key(key)], [timeout, *_flat(fields)])
            for key, fields in notes.items()
            if fields
        ]
        if not calls:
            return {}
        if len(calls) == 1:  # a pipeline asks first whether the script is loaded: a round trip more
            _, keys, args = calls[0]
            flats = [script(keys=keys, args=args)]
        else:
            pipe = self._cache.get_client(write=True).pipeline(transaction=False)  # type: ignore[attr-defined]
            for _, keys, args in calls:
                script(keys=keys, args=args, client=pipe)
            flats = pipe.execute()
        return {
            key: {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
            for (key, _, _), flat in zip(calls, flats, strict=True)
        }


def _flat(fields: Mapping[str, str]) -> list[str]:
    return [part for pair in fields.items() for part in pair]


def cache_hash_notes(
    notes: Mapping[str, Mapping[str, str]], timeout: int
) -> dict[str, dict[str, str]]:
    """`KeptClientRedisCache.hash_notes` on the default cache, or its equal (a read and a
    write a hash) on any other cache backend."""
    cache = caches["default"]
    if isinstance(cache, KeptClientRedisCache):
        return cache.hash_notes(notes, timeout)
    found = {}
    for key, fields in notes.items():
        if not fields:
            continue
        entries: dict[str, str] = cache.get(key) or {}
        entries.update(fields)
        cache.set(key, entries, timeout)
        found[key] = entries
    return found


_down_logged: dict[str, float] = {}


def cache_down_log(log: logging.Logger, what: str) -> None:
    """Log (with the exception being handled) that `what` went without the cache: once a
    minute per message, not once a request, while Redis is down."""
    now = time.monotonic()
    if now - _down_logged.get(what, -60.0) >= 60:
        _down_logged[what] = now
        log.warning("%s: the cache is unreachable", what, exc_info=True)


T = TypeVar("T")


def cache_or(log: logging.Logger, what: str, call: Callable[[], T], fallback: T) -> T:
    """`call()`, a use of the cache that only saves work or repeats what the database says;
    `fallback` when the cache is unreachable, logged (`cache_down_log`) as `what` went
    without it. The request goes on either way: Redis down is never an error page."""
    try:
        return call()
    except Exception:
        cache_down_log(log, what)
        return fallback
