"""A real Celery worker on Redis and PostgreSQL against a local fake Meta: the contract's
"fails transiently twice, delivered once within 2 minutes", with real countdowns."""

import logging
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connections
from django.utils import timezone

from bench.fake_graph import FakeGraph
from config.celery import app
from inbox.models import Message
from inbox.outbound.replies import reply_create
from tests.factories import AccountFactory, ConversationFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_worker(settings, monkeypatch):
    # Worker threads close their connections after each task, so none outlives the test.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # The app reads Django settings under the CELERY_ namespace: that key is the one that
    # counts (other tests set it too), not `task_always_eager`.
    app.conf.CELERY_TASK_ALWAYS_EAGER = False
    # The worker's logging set-up lowers the root logger to ERROR: tests after this one read
    # warnings, so it is put back.
    root_level = logging.getLogger().level
    try:
        with start_worker(app, pool="threads", concurrency=4, perform_ping_check=False):
            yield
    finally:
        app.conf.CELERY_TASK_ALWAYS_EAGER = True
        logging.getLogger().setLevel(root_level)


@pytest.fixture
def graph():
    with FakeGraph(port=18201) as fake:
        yield fake


def wait_for(message, status, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.status == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"message still {message.status} after {timeout}s")


def test_two_transient_failures_then_one_delivery_within_2_minutes(graph, live_worker):
    account = AccountFactory(graph_api_url=graph.base_url, access_token="hmat_worker_test")
    convo = ConversationFactory(account=account, last_customer_message_at=timezone.now())
    graph.script(account.ig_id, [(503, None), (429, None)])
    started = time.monotonic()
    message = reply_create(conversation=convo, author=UserFactory(), text="Where is my parcel?")
    wait_for(message, Message.Status.SENT, timeout=120)
    elapsed = time.monotonic() - started
    calls = graph.calls_for(account.ig_id)
    assert len(calls) == 3
    assert all(c.body == {"recipient": {"id": convo.customer_igsid},
                          "message": {"text": "Where is my parcel?"}} for c in calls)  # fmt: skip
    assert all(c.token == "hmat_worker_test" for c in calls)
    assert message.attempts == 3
    assert elapsed < 30  # the contract allows 120 s; the back-off takes about 2 s + 6 s
    time.sleep(1)
    assert len(graph.calls_for(account.ig_id)) == 3  # and nothing more ever goes out


def test_an_echo_stored_before_meta_answers_is_merged_into_the_reply(graph, live_worker):
    account = AccountFactory(graph_api_url=graph.base_url)
    convo = ConversationFactory(account=account, last_customer_message_at=timezone.now())

    def echo_first(call):
        # The intake stores the echo of this very send while Meta has not answered yet.
        Message.objects.create(
            conversation=convo,
            account=account,
            mid="aWdf_echo_race",
            direction=Message.Direction.OUTBOUND,
            origin=Message.Origin.BUSINESS_APP,
            status=Message.Status.SENT,
            text=call.body["message"]["text"],
        )
        connections.close_all()  # this runs in the fake server's thread

    graph.on_call = echo_first
    graph.script(account.ig_id, [(200, {"recipient_id": "x", "message_id": "aWdf_echo_race"})])
    message = reply_create(conversation=convo, author=UserFactory(), text="On its way")
    wait_for(message, Message.Status.SENT, timeout=30)
    rows = Message.objects.filter(conversation=convo, direction=Message.Direction.OUTBOUND)
    assert list(rows.values_list("pk", "origin", "mid")) == [
        (message.pk, Message.Origin.AGENT, "aWdf_echo_race")
    ]
