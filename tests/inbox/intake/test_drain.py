"""Draining: a processing task works every fresh event it finds, and while one such task waits
in the queue new events publish no other."""

import threading
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from inbox.intake import drain as intake_drain
from inbox.intake import process as intake_process
from inbox.intake import publish as intake_publish
from inbox.intake import rows as intake_rows
from inbox.intake.drain import webhook_events_drain
from inbox.intake.publish import (
    TASK_QUEUED_KEY,
    task_queued_clear,
    webhook_events_release_publishes,
)
from inbox.intake.tasks import webhook_event_process_task
from inbox.models import Conversation, Message, WebhookEvent
from tests.factories import AccountFactory
from tests.webhooks import (
    IG_ID,
    OTHER_IG_ID,
    echo_item,
    event_item,
    message_item,
    stored_event,
    webhook_body,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_meta")]

State = WebhookEvent.State


@pytest.fixture(autouse=True)
def no_mark():
    """The queued-task mark may outlive a test (in Redis)."""
    task_queued_clear(TASK_QUEUED_KEY)
    yield
    task_queued_clear(TASK_QUEUED_KEY)


@pytest.fixture
def account_ig():
    return AccountFactory(ig_id=IG_ID)


def messages(count, prefix="m"):
    return [
        stored_event(webhook_body(message_item(f"{prefix}-{n}", f"text {n}"))) for n in range(count)
    ]


def from_customers(count, prefix="c"):
    """One message from each of `count` customers."""
    return [
        stored_event(
            webhook_body(message_item(f"{prefix}-{n}", f"{prefix} {n}", sender=f"7{n:015d}"))
        )
        for n in range(count)
    ]


def echoes(count, prefix="e"):
    return [
        stored_event(webhook_body(echo_item(f"{prefix}-{n}", f"sent {n}"))) for n in range(count)
    ]


def states(events):
    return [WebhookEvent.objects.get(pk=event.pk).state for event in events]


def test_a_task_processes_its_event_then_every_fresh_one(account_ig):
    events = messages(5)
    webhook_event_process_task.delay(events[3].pk)
    assert states(events) == [State.PROCESSED] * 5
    assert Message.objects.count() == 5
    assert set(WebhookEvent.objects.values_list("attempts", flat=True)) == {1}


def test_a_drain_leaves_events_in_backoff_to_the_sweep(account_ig):
    (retrying,) = messages(1, "retry")
    WebhookEvent.objects.filter(pk=retrying.pk).update(attempts=1, last_error="waiting for x")
    fresh = messages(2, "fresh")
    assert webhook_events_drain() == 2
    retrying.refresh_from_db()
    assert (retrying.state, retrying.attempts) == (State.PENDING, 1)
    assert states(fresh) == [State.PROCESSED] * 2


def test_a_drain_settles_each_event_by_its_own_outcome(account_ig):
    done = stored_event(webhook_body(message_item("m-ok", "fine")))
    elsewhere = stored_event(webhook_body(message_item("m-other", "hi"), ig_id=OTHER_IG_ID))
    early = stored_event(
        webhook_body(event_item("reaction", {"mid": "m-later", "reaction": "love"}))
    )
    broken = WebhookEvent.objects.create(body="{", body_sha256="0" * 64)
    assert webhook_events_drain() == 4
    assert states([done, elsewhere, early, broken]) == [
        State.PROCESSED,
        State.WAITING_ACCOUNT,
        State.PENDING,
        State.FAILED,
    ]
    early.refresh_from_db()
    assert early.last_error.startswith("waiting for message m-later")
    assert WebhookEvent.objects.get(pk=done.pk).processed_at is not None


def test_a_drain_out_of_time_gives_back_what_it_did_not_start_and_queues_a_successor(
    account_ig, monkeypatch
):
    published = []
    monkeypatch.setattr(
        intake_drain, "webhook_event_publish", lambda **kwargs: published.append(kwargs)
    )
    events = echoes(5)  # worked one at a time
    assert webhook_events_drain(seconds=0, group=3) == 1  # always at least one
    assert published == [{"event_id": events[2].pk, "coalesce": True}]
    assert states(events) == [State.PROCESSED] + [State.PENDING] * 4
    # Given back as fresh: the successor (or any drain) takes them.
    assert (
        list(WebhookEvent.objects.filter(state=State.PENDING).values_list("attempts", flat=True))
        == [0] * 4
    )
    assert webhook_events_drain() == 4


def test_a_long_group_keeps_every_event_it_holds_leased(account_ig, monkeypatch, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    events = echoes(3)  # worked one at a time
    monkeypatch.setattr(intake_rows, "HEARTBEAT_SECONDS", -1.0)  # renew after every item
    last_held = []
    real = intake_process.webhook_item_apply

    def slow(*, account, event):
        time_machine.shift(timedelta(seconds=30))
        last_held.append(WebhookEvent.objects.get(pk=events[2].pk).updated_at)
        return real(account=account, event=event)

    monkeypatch.setattr(intake_process, "webhook_item_apply", slow)
    assert webhook_events_drain(seconds=600) == 3
    # The third event, not started yet, was renewed while the first two were worked.
    assert last_held[1] - last_held[0] == timedelta(seconds=30)
    assert states(events) == [State.PROCESSED] * 3


def test_events_done_before_a_failure_in_the_same_group_are_settled(account_ig, monkeypatch):
    real = intake_drain.webhook_event_apply
    events = echoes(3)  # worked one at a time

    def apply(*, event, **kwargs):
        if event.pk == events[1].pk:
            raise OperationalError("connection lost")
        return real(event=event, **kwargs)

    monkeypatch.setattr(intake_drain, "webhook_event_apply", apply)
    with pytest.raises(OperationalError):
        webhook_events_drain()
    # The rest keep their lease until it runs out; then the sweep hands them out again.
    assert states(events) == [State.PROCESSED, State.PROCESSING, State.PROCESSING]


@pytest.mark.parametrize(
    ("make", "previews"),
    [(messages, ["text 9"]), (from_customers, [f"c {n}" for n in range(10)])],
    ids=["one customer", "ten customers"],
)
def test_a_group_of_known_conversations_costs_a_fixed_number_of_statements(
    account_ig, django_assert_max_num_queries, settings, make, previews
):
    make(10, "first")
    webhook_events_drain()
    make(10)
    # For the group: the claim, the accounts, BEGIN, the conversations, the mids stored, one
    # INSERT of the messages, the conversations' summaries (in one round trip however many
    # there are), the settling, COMMIT; the live stamps of the conversations and of the
    # account (one round trip each, after the commit); then an empty claim (two where
    # webhooks held back their tasks meanwhile).
    with django_assert_max_num_queries(12 + settings.INTAKE_COALESCE_PUBLISHES):
        assert webhook_events_drain() == 10
    assert sorted(Conversation.objects.values_list("last_message_preview", flat=True)) == previews


def test_events_worked_one_at_a_time_cost_a_few_statements_each(
    account_ig, django_assert_max_num_queries, settings
):
    echoes(1, "first")
    webhook_events_drain()
    echoes(10)
    # Per event: BEGIN, our own send by mid, conversation, our send to adopt, SAVEPOINT,
    # INSERT, RELEASE, summary, COMMIT, and the live stamps of the conversation and of the
    # account (after the commit; here, where the test's transaction never commits, at each
    # of the event's two touches). Per group: the claim, the accounts, the settling; then an
    # empty claim (two, as above).
    with django_assert_max_num_queries(10 * 13 + 4 + settings.INTAKE_COALESCE_PUBLISHES):
        assert webhook_events_drain() == 10


# --- coalesced publishes ---------------------------------------------------------------
class Published(list):
    def __init__(self):
        super().__init__()
        self.delays = []


@pytest.fixture
def publishes(monkeypatch):
    """Tasks handed to the broker (recorded, not run: they wait in the queue); `.delays`
    says how long each waits before it may start."""
    sent = Published()

    def publish(name, *args, countdown=None):
        sent.append(args)
        sent.delays.append(countdown)
        return True

    monkeypatch.setattr(intake_publish, "task_queue", publish)
    return sent


def test_new_events_publish_no_task_while_one_waits(settings, deliver, account_ig, publishes):
    settings.INTAKE_COALESCE_PUBLISHES = True
    for n in range(3):
        deliver(webhook_body(message_item(f"m-{n}", "burst")))
    first, *_ = WebhookEvent.objects.order_by("id")
    assert publishes == [(first.pk,)]
    assert publishes.delays == [None]  # a task starts at once

    webhook_events_release_publishes()  # a worker took it: it may have looked already
    deliver(webhook_body(message_item("m-3", "after")))
    assert len(publishes) == 2


def test_one_waiting_task_processes_the_whole_burst(settings, deliver, account_ig, publishes):
    settings.INTAKE_COALESCE_PUBLISHES = True
    for n in range(4):
        deliver(webhook_body(message_item(f"m-{n}", "burst")))
    ((event_id,),) = publishes
    webhook_event_process_task.run(event_id)  # the worker runs the one task
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {State.PROCESSED}
    assert Message.objects.count() == 4
    deliver(webhook_body(message_item("m-4", "later")))
    assert len(publishes) == 2


def test_a_task_holds_publishes_until_its_drain_looks_for_the_last_time(
    settings, deliver, account_ig, publishes, monkeypatch
):
    """A webhook arriving while the task works its own event queues no second task: the
    drain takes it."""
    settings.INTAKE_COALESCE_PUBLISHES = True
    deliver(webhook_body(message_item("m-0", "first")))
    ((event_id,),) = publishes
    real = intake_drain.webhook_event_process

    def process(*, event_id):
        state = real(event_id=event_id)
        deliver(webhook_body(message_item("m-1", "while the task works")))
        return state

    monkeypatch.setattr(intake_drain, "webhook_event_process", process)
    webhook_event_process_task.run(event_id)
    assert len(publishes) == 1
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {State.PROCESSED}
    deliver(webhook_body(message_item("m-2", "after the task")))
    assert len(publishes) == 2


def test_a_task_that_fails_releases_publishes(
    settings, deliver, account_ig, publishes, monkeypatch
):
    settings.INTAKE_COALESCE_PUBLISHES = True
    deliver(webhook_body(message_item("m-0", "first")))
    ((event_id,),) = publishes

    def process(*, event_id):
        raise OperationalError("database gone")

    monkeypatch.setattr(intake_drain, "webhook_event_process", process)
    with pytest.raises(OperationalError):
        webhook_event_process_task.run(event_id)
    deliver(webhook_body(message_item("m-1", "after the failure")))
    assert len(publishes) == 2  # not held back until the hold expires


def test_without_a_shared_cache_every_event_publishes(settings, deliver, account_ig, publishes):
    settings.INTAKE_COALESCE_PUBLISHES = False
    for n in range(3):
        deliver(webhook_body(message_item(f"m-{n}", "burst")))
    assert len(publishes) == 3


def test_a_coalesced_task_starts_at_once_and_a_burst_gathers_behind_it(
    settings, deliver, account_ig, publishes
):
    """A lone message is not held back: only the drain waits for a group to gather."""
    settings.INTAKE_COALESCE_PUBLISHES = True
    settings.INTAKE_GATHER_SECONDS = 0.1
    deliver(webhook_body(message_item("m-0", "first of a burst")))
    deliver(webhook_body(message_item("m-1", "second of a burst")))
    assert publishes.delays == [None]  # one task, queued to start now


def test_a_drain_lets_the_next_group_gather_and_the_webhooks_meanwhile_publish_nothing(
    settings, deliver, account_ig, publishes, monkeypatch
):
    settings.INTAKE_COALESCE_PUBLISHES = True
    settings.INTAKE_GATHER_SECONDS = 0.1
    events = messages(2)
    waits = []

    def wait(seconds):  # webhooks keep coming while the drain waits
        waits.append(seconds)
        if len(waits) == 1:
            deliver(webhook_body(message_item("m-late", "meanwhile")))

    monkeypatch.setattr(intake_drain.time, "sleep", wait)
    assert webhook_events_drain() == 3  # the late one too, in the next group
    assert waits == [0.1, 0.1]  # after each group smaller than a full one
    assert publishes == []  # the drain was going to look again
    assert states(events) == [State.PROCESSED] * 2
    # Done: the mark is gone, and the next webhook publishes.
    deliver(webhook_body(message_item("m-next", "later")))
    assert len(publishes) == 1


def test_a_drain_out_of_time_publishes_its_successor_past_its_own_mark(
    settings, account_ig, publishes
):
    settings.INTAKE_COALESCE_PUBLISHES = True
    events = echoes(5)
    assert webhook_events_drain(seconds=0, group=3) == 1
    assert publishes == [(events[2].pk,)]


def test_after_a_failed_publish_the_next_event_publishes(
    settings, deliver, account_ig, monkeypatch
):
    settings.INTAKE_COALESCE_PUBLISHES = True
    attempts = []

    def publish(name, *args, countdown=None):
        attempts.append(args)
        return len(attempts) > 1  # the broker is back for the second one

    monkeypatch.setattr(intake_publish, "task_queue", publish)
    deliver(webhook_body(message_item("m-0", "broker down")))
    deliver(webhook_body(message_item("m-1", "broker back")))
    deliver(webhook_body(message_item("m-2", "its task waits")))
    assert len(attempts) == 2
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {State.PENDING}


def test_without_the_marks_every_event_publishes(
    settings, deliver, account_ig, publishes, monkeypatch
):
    settings.INTAKE_COALESCE_PUBLISHES = True

    class Down:
        def add(self, *args):
            raise ConnectionError("Redis down")

        delete = add

    monkeypatch.setattr(intake_publish, "_marks", Down)
    for n in range(2):
        deliver(webhook_body(message_item(f"m-{n}", "no marks")))
    assert len(publishes) == 2


@pytest.mark.redis
def test_marks_live_in_redis_and_expire(settings):
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    assert intake_publish._marks().add(TASK_QUEUED_KEY, 10)
    assert not intake_publish._marks().add(TASK_QUEUED_KEY, 10)
    assert 0 < client.ttl(TASK_QUEUED_KEY) <= 10
    task_queued_clear(TASK_QUEUED_KEY)
    assert not client.exists(TASK_QUEUED_KEY)


# --- concurrent drains on PostgreSQL ---------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_drains_share_a_backlog_and_process_each_event_once():
    AccountFactory(ig_id=IG_ID)
    events = [
        stored_event(webhook_body(message_item(f"m-{n}", "x", sender=f"7{n % 5:015d}")))
        for n in range(40)
    ]
    barrier = threading.Barrier(4)
    counts, errors = [], []

    def drain():
        try:
            barrier.wait(timeout=10)
            counts.append(webhook_events_drain(group=3))
        except Exception as e:  # surfaced by the assertion below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sum(counts) == 40
    assert states(events) == [State.PROCESSED] * 40
    assert set(WebhookEvent.objects.values_list("attempts", flat=True)) == {1}
    assert Message.objects.count() == 40
