"""A broker outage never loses an event nor stalls Meta's request; the sweep catches up."""

import base64
import json
import os
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from common.queueing import task_queue_pause_reset
from config.celery import app
from inbox.intake.publish import TASK_QUEUED_KEY, task_queued_clear
from inbox.intake.sweep import webhook_events_sweep
from inbox.models import Message, WebhookEvent
from tests.factories import AccountFactory
from tests.processes import python_run
from tests.webhooks import IG_ID, message_item, post_signed, webhook_body, webhook_fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_meta")]

CLOSED_PORT_BROKER = "redis://127.0.0.1:18199/1"  # nothing listens there


def use_broker(url, transport_options, eager):
    conf = app.conf
    saved = (conf.broker_url, dict(conf.broker_transport_options or {}), conf.task_always_eager)
    # The app reads Django settings under the CELERY_ namespace: override those names.
    conf.CELERY_BROKER_URL = url
    conf.CELERY_BROKER_TRANSPORT_OPTIONS = transport_options
    conf.CELERY_TASK_ALWAYS_EAGER = eager
    app._pool = None
    app.amqp._producer_pool = None
    task_queue_pause_reset()
    return saved


@pytest.fixture
def real_broker():
    """Publish for real (not eagerly) to the broker `switch(url)` names."""
    saved = []

    def switch(url, transport_options=None):
        options = transport_options
        if options is None:
            options = {"max_retries": 0, "socket_connect_timeout": 1}
        saved.append(use_broker(url, options, eager=False))

    yield switch
    if saved:
        url, options, eager = saved[0]
        use_broker(url, options, eager)
    # A task published for real is never run here: forget its mark, or the next tests'
    # events would wait for it (coalesced publishes, with Redis as the cache).
    task_queued_clear(TASK_QUEUED_KEY)


def test_events_are_stored_and_acknowledged_fast_while_the_broker_is_down(
    client, django_capture_on_commit_callbacks, real_broker, caplog, time_machine
):
    AccountFactory(ig_id=IG_ID)
    real_broker(CLOSED_PORT_BROKER)
    time_machine.move_to(timezone.now())
    timings = []
    with caplog.at_level("WARNING", logger="common.queueing"):
        for i in range(5):
            body = webhook_body(message_item(f"m-{i}", f"during the outage {i}"))
            started = time.monotonic()
            with django_capture_on_commit_callbacks(execute=True):
                response = post_signed(client, body)
            timings.append(time.monotonic() - started)
            assert response.status_code == 200
    assert max(timings) < 1.0
    assert WebhookEvent.objects.filter(state="pending").count() == 5
    assert "could not publish" in caplog.text
    assert not Message.objects.exists()

    # The broker is back (eager here stands for a worker); the sweep catches up.
    use_broker(CLOSED_PORT_BROKER, {}, eager=True)
    time_machine.shift(timedelta(seconds=31))
    assert len(webhook_events_sweep()) == 5
    assert Message.objects.count() == 5
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"processed"}


PUBLISH_WITH_PRODUCTION_SETTINGS = """
import time, django
django.setup()
from inbox.intake.tasks import webhook_event_process_task
started = time.monotonic()
try:
    webhook_event_process_task.delay(1)
except Exception as e:
    print(type(e).__name__, time.monotonic() - started)
"""


def test_with_the_production_settings_a_publish_to_a_dead_broker_fails_at_once():
    """kombu's default retries for CELERY_BROKER_CONNECTION_TIMEOUT on every publish; the
    settings ask for one attempt, so a webhook request never waits on a dead broker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="true",
        REDIS_URL=CLOSED_PORT_BROKER,
        DATABASE_URL="sqlite:///:memory:",
    )
    result = python_run(PUBLISH_WITH_PRODUCTION_SETTINGS, env)
    error, seconds = result.stdout.split()
    assert error == "OperationalError"
    assert float(seconds) < 0.5


@pytest.mark.redis
def test_with_redis_up_the_task_is_published_on_commit(
    client, django_capture_on_commit_callbacks, real_broker
):
    import redis

    real_broker(settings.REDIS_URL)
    queue = redis.Redis.from_url(settings.REDIS_URL)
    before = queue.llen("celery")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(client, webhook_fixture("message_text")).status_code == 200
    assert queue.llen("celery") == before + 1
    event_id = WebhookEvent.objects.get().pk
    published = queue.lindex("celery", 0)
    queue.lrem("celery", 1, published)
    message = json.loads(published)
    assert message["headers"]["task"] == "inbox.tasks.webhook_event_process_task"
    args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert args == [event_id]


@pytest.mark.redis
def test_with_redis_a_burst_queues_one_task_until_a_worker_takes_it(
    client, django_capture_on_commit_callbacks, real_broker
):
    import redis

    from inbox.intake.publish import webhook_events_release_publishes

    real_broker(settings.REDIS_URL)
    queue = redis.Redis.from_url(settings.REDIS_URL)
    before = queue.llen("celery")
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                post_signed(client, webhook_body(message_item(f"m-{n}", "burst"))).status_code
                == 200
            )
    assert queue.llen("celery") == before + 1  # its task will drain all three
    webhook_events_release_publishes()  # a worker took it
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(client, webhook_body(message_item("m-3", "later"))).status_code == 200
    assert queue.llen("celery") == before + 2
    for _ in range(2):
        queue.lpop("celery")
