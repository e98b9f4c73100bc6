"""The Redis cache keeps one client per connection pool instead of building one per call."""

from common.cache import KeptClientRedisCache


def test_it_hands_out_the_same_client_for_every_call():
    # Building clients opens no connection: this never reaches a server.
    cache = KeptClientRedisCache("redis://127.0.0.1:6390/0", {})
    first = cache._cache.get_client("a")
    assert cache._cache.get_client("b") is first
    assert cache._cache.get_client("c", write=True) is first  # one server: one pool
