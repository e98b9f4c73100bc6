"""The per-account rate limit: evenly spaced slots shared by every worker."""

import itertools
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from inbox.models import Message
from inbox.outbound import ratelimit
from inbox.outbound.ratelimit import (
    HEADROOM,
    MAX_RESERVE_AHEAD,
    LocalLimiter,
    RedisLimiter,
    bucket_rate,
    send_limiter,
)
from inbox.outbound.tasks import message_send_task
from tests.factories import ConversationFactory

from .sendkit import T0, answer_ok, bodies, reply


@pytest.fixture(params=["local", pytest.param("redis", marks=pytest.mark.redis)])
def limiter(request, settings):
    if request.param == "local":
        return LocalLimiter()
    return RedisLimiter(settings.REDIS_URL)


@pytest.fixture
def bucket():
    return f"test-{uuid.uuid4().hex}:standard"


def test_the_first_call_goes_at_once_and_the_next_ones_are_evenly_spaced(limiter, bucket):
    delays = [limiter.reserve(bucket=bucket, rate=10).delay for _ in range(5)]
    assert delays[0] == pytest.approx(0, abs=0.01)
    gaps = [b - a for a, b in itertools.pairwise(delays)]
    assert all(gap == pytest.approx(0.1, abs=0.01) for gap in gaps)


def test_buckets_are_independent(limiter, bucket):
    limiter.reserve(bucket=bucket, rate=1)
    assert limiter.reserve(bucket=bucket + "-other", rate=1).delay == pytest.approx(0, abs=0.01)


def test_it_does_not_reserve_further_ahead_than_a_minute(limiter, bucket):
    for _ in range(61):
        assert limiter.reserve(bucket=bucket, rate=1).reserved
    slot = limiter.reserve(bucket=bucket, rate=1)
    assert not slot.reserved
    assert slot.delay > MAX_RESERVE_AHEAD
    # Not reserving leaves the line as it was.
    assert limiter.reserve(bucket=bucket, rate=1).delay == pytest.approx(slot.delay, abs=0.05)


def test_a_pause_pushes_the_next_slot(limiter, bucket):
    limiter.pause(bucket=bucket, seconds=30)
    assert limiter.reserve(bucket=bucket, rate=100).delay == pytest.approx(30, abs=0.05)
    limiter.pause(bucket=bucket, seconds=5)  # a shorter pause never shortens a longer one
    assert limiter.reserve(bucket=bucket, rate=100).delay == pytest.approx(30, abs=0.05)


def test_the_gate_spaces_the_calls_that_actually_leave(limiter, bucket):
    assert limiter.admit(bucket=bucket, rate=10) == 0
    wait = limiter.admit(bucket=bucket, rate=10)
    assert wait == pytest.approx(0.1, abs=0.01)
    time.sleep(wait)
    assert limiter.admit(bucket=bucket, rate=10) == 0


def test_a_pause_closes_the_gate_too(limiter, bucket):
    limiter.pause(bucket=bucket, seconds=30)
    assert limiter.admit(bucket=bucket, rate=100) == pytest.approx(30, abs=0.05)


def test_many_workers_never_pass_more_than_the_rate_in_any_second(limiter, bucket, settings):
    """Sixteen threads (or, with Redis, sixteen clients: separate workers) race for 1.6 s."""
    rate, admitted, lock = 20.0, [], threading.Lock()
    redis_url = settings.REDIS_URL if isinstance(limiter, RedisLimiter) else None

    def worker():
        own = RedisLimiter(redis_url) if redis_url else limiter
        end = time.monotonic() + 1.6
        while time.monotonic() < end:
            slot = own.reserve(bucket=bucket, rate=rate)
            time.sleep(min(slot.delay, 0.05))  # some wake up late on purpose
            while (wait := own.admit(bucket=bucket, rate=rate)) > 0:
                time.sleep(wait)
            with lock:
                admitted.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    admitted.sort()
    most = max(sum(1 for t in admitted if start <= t < start + 1.0) for start in admitted)
    assert most <= rate
    assert len(admitted) >= rate * 1.5  # and it did not starve


@pytest.mark.redis
def test_two_workers_share_one_line_through_redis(settings, bucket):
    first, second = RedisLimiter(settings.REDIS_URL), RedisLimiter(settings.REDIS_URL)
    delays = [w.reserve(bucket=bucket, rate=20).delay for w in (first, second, first, second)]
    assert delays == pytest.approx([0, 0.05, 0.1, 0.15], abs=0.01)


@pytest.mark.redis
def test_redis_forgets_an_idle_bucket(settings, bucket):
    limiter = RedisLimiter(settings.REDIS_URL)
    limiter.reserve(bucket=bucket, rate=10)
    ttl = limiter._redis.pttl(ratelimit.KEY_PREFIX + bucket)
    assert 0 < ttl <= 1200


def test_it_uses_redis_when_configured_and_a_local_line_otherwise(settings, monkeypatch):
    monkeypatch.setattr(ratelimit, "_limiter", None)
    settings.REDIS_URL = ""
    assert isinstance(send_limiter(), LocalLimiter)
    settings.REDIS_URL = "redis://127.0.0.1:6399/9"
    assert isinstance(send_limiter(), RedisLimiter)


def test_caps_come_from_settings_with_headroom(settings):
    settings.INSTAGRAM_RATE_LIMIT_TEXT = 100
    settings.INSTAGRAM_RATE_LIMIT_MEDIA = 10
    assert bucket_rate("standard") == pytest.approx(100 * HEADROOM)
    assert bucket_rate("media") == pytest.approx(10 * HEADROOM)


# --- the task under the limit -----------------------------------------------------------


def elsewhere(convo, writer, **kwargs):
    """A reply in another conversation of the same account (no ordering wait)."""
    other = ConversationFactory(account=convo.account, last_customer_message_at=T0)
    return reply(other, writer, **kwargs)


@pytest.mark.django_db
def test_a_throttled_send_is_rescheduled_for_its_slot_not_slept_on(
    meta, convo, writer, settings, scheduled, wall_clock_limiter
):
    settings.INSTAGRAM_RATE_LIMIT_TEXT = 1  # one call every ~1.08 s
    answer_ok(meta, convo.account)
    first, second = reply(convo, writer), elsewhere(convo, writer)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        message_send_task(first.pk)
        started = time.monotonic()
        message_send_task(second.pk)
        assert time.monotonic() - started < 0.5  # did not sit in the worker
    assert len(meta.calls) == 1
    ((message_id, countdown, kwargs),) = scheduled
    assert message_id == second.pk
    assert countdown == pytest.approx(1 / HEADROOM - 0.02, abs=0.05)
    second.refresh_from_db()
    assert second.status == Message.Status.QUEUED
    assert second.next_attempt_at is not None

    # When it comes back at its slot it goes out without queueing again.
    with time_machine.travel(datetime.fromtimestamp(kwargs["slot_at"], UTC), tick=False):
        message_send_task(second.pk, **kwargs)
    second.refresh_from_db()
    assert second.status == Message.Status.SENT
    assert len(meta.calls) == 2
    assert len(scheduled) == 1


@pytest.mark.django_db
def test_audio_and_video_use_the_media_cap(meta, convo, writer, settings, scheduled):
    settings.INSTAGRAM_RATE_LIMIT_TEXT = 100
    settings.INSTAGRAM_RATE_LIMIT_MEDIA = 1
    answer_ok(meta, convo.account)
    clips = [
        elsewhere(
            convo,
            writer,
            kind="attachment",
            text="",
            attachments=[{"type": "video", "url": f"https://cdn.test/{n}.mp4"}],
        )
        for n in range(2)
    ]
    texts = [elsewhere(convo, writer) for _ in range(2)]
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        for message in clips + texts:
            message_send_task(message.pk)
    # One clip went, the other waits for its slot; both texts went at once.
    assert [b["message"].get("text", "clip") for b in bodies(meta)] == [
        "clip",
        texts[0].text,
        texts[1].text,
    ]
    assert [s[0] for s in scheduled] == [clips[1].pk]


@pytest.mark.django_db
def test_a_reply_books_its_slot_when_queued_and_is_published_once_for_it(
    convo, writer, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from inbox.outbound.replies import reply_create

    settings.CELERY_TASK_ALWAYS_EAGER = False  # as on a real worker: tasks can wait
    settings.INSTAGRAM_RATE_LIMIT_TEXT = 1
    published = []
    monkeypatch.setattr(
        message_send_task,
        "apply_async",
        lambda args, kwargs=None, countdown=None: published.append((args[0], countdown, kwargs)),
    )
    other = ConversationFactory(account=convo.account, last_customer_message_at=T0)
    with (
        time_machine.travel(T0 + timedelta(hours=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = reply_create(conversation=convo, author=writer, text="one")
        second = reply_create(conversation=other, author=writer, text="two")
    (id1, countdown1, kwargs1), (id2, countdown2, kwargs2) = published
    assert (id1, id2) == (first.pk, second.pk)
    assert countdown1 == pytest.approx(0, abs=0.05)
    assert countdown2 == pytest.approx(1 / HEADROOM - 0.02, abs=0.05)
    assert kwargs2["slot_at"] - kwargs1["slot_at"] == pytest.approx(1 / HEADROOM, abs=0.05)
    second.refresh_from_db()
    # The sweep leaves it to its task until its slot.
    assert second.next_attempt_at.timestamp() == pytest.approx(kwargs2["slot_at"], abs=0.01)


@pytest.mark.django_db
def test_a_gate_closed_at_the_last_moment_puts_the_reply_back_unspent(
    meta, convo, writer, scheduled, monkeypatch
):
    answer_ok(meta, convo.account)
    message = reply(convo, writer)
    limiter = LocalLimiter()
    monkeypatch.setattr(ratelimit, "_limiter", limiter)
    monkeypatch.setattr(ratelimit, "_limiter_url", ratelimit.settings.REDIS_URL)
    monkeypatch.setattr(limiter, "admit", lambda **kw: 5.0)  # Meta paused it meanwhile
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        message_send_task(message.pk)
    message.refresh_from_db()
    assert len(meta.calls) == 0
    assert message.status == Message.Status.QUEUED
    assert message.attempts == 0
    assert message.sending_started_at is None
    ((_, countdown, kwargs),) = scheduled
    assert countdown == pytest.approx(5.0, abs=0.05)
    assert kwargs["slot_at"] is not None  # it keeps its turn
