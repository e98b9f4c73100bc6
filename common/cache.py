"""Django's Redis cache, keeping its Redis client.

Django's RedisCache builds a new `redis.Redis` object (around its shared connection pool) on
every call, and building one fills a table of some 160 reply handlers: on a live poll, which
reads its session from the cache, that was an eighth of the CPU the poll cost. A `redis.Redis`
is safe to share between threads (each command takes a connection from the pool), so one is
kept per pool.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _KeptClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = super().get_client(key, write=write)
        return client


class KeptClientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _KeptClient
