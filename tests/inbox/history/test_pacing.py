"""At most 2 Conversations API calls a second per account, whichever worker makes them."""

from __future__ import annotations

import time

import pytest

from inbox.outbound import ratelimit
from inbox.outbound.pacing import gate_wait, history_bucket


@pytest.fixture
def limiter(monkeypatch):
    fresh = ratelimit.LocalLimiter()
    monkeypatch.setattr(ratelimit, "_limiter", fresh)
    monkeypatch.setattr(ratelimit, "_limiter_url", "")
    return fresh


def test_it_spaces_calls_to_at_most_two_in_any_second(limiter, settings):
    settings.REDIS_URL = ""
    bucket = history_bucket(account_id=7)
    times = []
    for _ in range(4):
        gate_wait(bucket=bucket)
        times.append(time.monotonic())

    # Every 1-second window holds at most 2 calls: the third call is over a second after
    # the first.
    assert all(later - first > 1.0 for first, later in zip(times, times[2:], strict=False))


def test_each_account_has_its_own_line(limiter, settings):
    settings.REDIS_URL = ""
    started = time.monotonic()
    for account_id in range(1, 6):
        gate_wait(bucket=history_bucket(account_id=account_id))

    assert time.monotonic() - started < 0.5
    assert history_bucket(account_id=1).key != history_bucket(account_id=2).key


def test_a_call_up_to_a_quarter_second_late_still_leaves_two_in_any_second(settings):
    """The gate spaces calls; one that leaves late (a busy worker) must not land within a
    second of the two after it: the third call's gate opens at least 1.25 s after the first."""
    settings.HISTORY_SYNC_CALLS_PER_SECOND = 2
    spacing = 1.0 / history_bucket(account_id=7).rate
    assert 2 * spacing >= 1.0 + 0.25
