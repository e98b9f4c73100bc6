"""The Redis cache keeps one client per connection pool instead of building one per call,
and keeps small hashes written and read in one round trip."""

import uuid

import pytest

from common.cache import KeptClientRedisCache, cache_hash_notes


def test_it_hands_out_the_same_client_for_every_call():
    # Building clients opens no connection: this never reaches a server.
    cache = KeptClientRedisCache("redis://127.0.0.1:6390/0", {})
    first = cache._cache.get_client("a")
    assert cache._cache.get_client("b") is first
    assert cache._cache.get_client("c", write=True) is first  # one server: one pool


@pytest.mark.redis
def test_hash_notes_write_fields_and_read_each_hash_whole_in_one_round_trip(settings):
    cache = KeptClientRedisCache(settings.REDIS_URL, {"KEY_PREFIX": f"hash-test-{uuid.uuid4()}"})
    assert cache.hash_notes({"room": {"1": "ann"}}, 20) == {"room": {"1": "ann"}}
    assert cache.hash_notes({"room": {"2": "bob"}}, 20) == {"room": {"1": "ann", "2": "bob"}}
    key = cache.make_and_validate_key("room")
    client = cache._cache.get_client(key)
    assert 0 < client.ttl(key) <= 20
    # Several hashes, several fields: one pipeline.
    both = cache.hash_notes({"room": {"1": "ann again", "3": "cat"}, "hall": {"2": "bob"}}, 20)
    assert both == {"room": {"1": "ann again", "2": "bob", "3": "cat"}, "hall": {"2": "bob"}}
    assert cache.hash_notes({}, 20) == {}
    client.script_flush()  # a restarted server has forgotten the script: it is sent again
    assert cache.hash_notes({"room": {"2": "bob again"}}, 20)["room"]["2"] == "bob again"
    client.script_flush()
    assert cache.hash_notes({"room": {"2": "bob"}, "hall": {"1": "ann"}}, 20)["hall"] == {
        "1": "ann",
        "2": "bob",
    }
    client.delete(key, cache.make_and_validate_key("hall"))


def test_on_another_cache_hash_notes_are_a_read_and_a_write_each(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "h"}
    }
    assert cache_hash_notes({"room": {"1": "ann"}}, 20) == {"room": {"1": "ann"}}
    assert cache_hash_notes({"room": {"2": "bob"}, "hall": {"1": "ann"}}, 20) == {
        "room": {"1": "ann", "2": "bob"},
        "hall": {"1": "ann"},
    }


def test_a_cache_outage_is_logged_once_a_minute_not_once_a_request(caplog):
    import logging

    from common.cache import cache_down_log

    log = logging.getLogger("tests.cache")
    for _ in range(100):
        try:
            raise ConnectionError("Redis is down")
        except ConnectionError:
            cache_down_log(log, "presence")
    assert caplog.text.count("presence: the cache is unreachable") == 1
    assert "ConnectionError" in caplog.text
