"""The ledger's life: claims, retries with backoff, failures, sweeps, waiting accounts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.intake import process as intake_process
from inbox.intake.process import webhook_event_process
from inbox.intake.rows import MAX_ATTEMPTS
from inbox.intake.sweep import webhook_events_reprocess, webhook_events_sweep
from inbox.intake.tasks import webhook_event_process_task
from inbox.models import Conversation, Message, Reaction, WebhookEvent
from tests.factories import AccountFactory
from tests.webhooks import (
    IG_ID,
    OTHER_IG_ID,
    message_item,
    stored_event,
    webhook_body,
    webhook_fixture,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_meta")]

State = WebhookEvent.State


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    return time_machine


def test_processing_twice_yields_one_message(account_ig, django_capture_on_commit_callbacks):
    event = stored_event(webhook_fixture("message_text"))
    assert webhook_event_process(event_id=event.pk) == State.PROCESSED
    assert webhook_event_process(event_id=event.pk) is None  # not pending: not claimed again
    with django_capture_on_commit_callbacks(execute=True):
        # Replayed on purpose: still one message.
        assert webhook_events_reprocess(event_ids=[event.pk]) == 1
    event.refresh_from_db()
    assert event.state == State.PROCESSED
    assert Message.objects.count() == 1


def test_a_missing_event_is_logged_and_skipped(caplog):
    with caplog.at_level("INFO", logger="inbox.intake.process"):
        webhook_event_process_task.delay(987654)
    assert "webhook event 987654 does not exist" in caplog.text


@pytest.fixture
def account_ig():
    return AccountFactory(ig_id=IG_ID)


@pytest.fixture
def flaky(monkeypatch):
    """Applying a message fails `failures` times, then works."""
    real = intake_process.webhook_item_apply
    calls = {"failures": 0}

    def apply(*, account, event):
        if calls["failures"] > 0:
            calls["failures"] -= 1
            raise RuntimeError("database hiccup")
        return real(account=account, event=event)

    monkeypatch.setattr(intake_process, "webhook_item_apply", apply)
    return calls


def test_a_failing_event_is_retried_with_backoff(account_ig, flaky, frozen):
    flaky["failures"] = 1
    event = stored_event(webhook_fixture("message_text"))
    assert webhook_event_process(event_id=event.pk) == State.PENDING
    event.refresh_from_db()
    assert (event.attempts, event.last_error) == (1, "MessageEvent: RuntimeError: database hiccup")
    frozen.shift(timedelta(seconds=10))
    assert webhook_events_sweep() == []
    frozen.shift(timedelta(seconds=10))
    assert webhook_events_sweep() == [event.pk]
    event.refresh_from_db()
    assert (event.state, event.attempts, event.last_error) == (State.PROCESSED, 2, "")
    assert Message.objects.count() == 1


def test_an_event_failing_every_time_ends_failed_then_an_admin_reprocesses_it(
    account_ig, flaky, frozen, client, admin_user, django_capture_on_commit_callbacks
):
    flaky["failures"] = 100
    event = stored_event(webhook_fixture("message_text"))
    webhook_event_process(event_id=event.pk)
    for _ in range(MAX_ATTEMPTS + 2):
        frozen.shift(timedelta(hours=2))
        webhook_events_sweep()
    event.refresh_from_db()
    assert (event.state, event.attempts) == (State.FAILED, MAX_ATTEMPTS)
    assert "database hiccup" in event.last_error
    frozen.shift(timedelta(hours=2))
    assert webhook_events_sweep() == []  # failed events are left for a person

    client.force_login(admin_user)
    listing = client.get("/admin/inbox/webhookevent/?state__exact=failed").content.decode()
    assert "database hiccup" in listing
    flaky["failures"] = 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/inbox/webhookevent/",
            {"action": "reprocess", "_selected_action": [event.pk]},
            follow=True,
        )
    assert "1 event(s) queued for processing" in response.content.decode()
    event.refresh_from_db()
    assert (event.state, event.last_error) == (State.PROCESSED, "")
    assert Message.objects.count() == 1


def test_one_failing_item_does_not_hold_back_the_others(account_ig, monkeypatch):
    real = intake_process.webhook_item_apply

    def apply(*, account, event):
        if getattr(event, "mid", "") == "m-bad":
            raise ValueError("boom")
        return real(account=account, event=event)

    monkeypatch.setattr(intake_process, "webhook_item_apply", apply)
    event = stored_event(webhook_body(message_item("m-bad", "x"), message_item("m-good", "y")))
    assert webhook_event_process(event_id=event.pk) == State.PENDING
    assert list(Message.objects.values_list("mid", flat=True)) == ["m-good"]


def test_a_lost_publish_is_swept_after_thirty_seconds(account_ig, frozen):
    event = stored_event(webhook_fixture("message_text"))
    frozen.shift(timedelta(seconds=20))
    assert webhook_events_sweep() == []
    frozen.shift(timedelta(seconds=15))
    assert webhook_events_sweep() == [event.pk]
    event.refresh_from_db()
    assert event.state == State.PROCESSED


def test_an_event_abandoned_while_processing_is_taken_back(account_ig, frozen):
    event = stored_event(webhook_fixture("message_text"))
    WebhookEvent.objects.filter(pk=event.pk).update(state=State.PROCESSING, attempts=1)
    frozen.shift(timedelta(seconds=30))
    assert webhook_events_sweep() == []  # its worker may still be on it
    frozen.shift(timedelta(seconds=40))
    assert webhook_events_sweep() == [event.pk]
    event.refresh_from_db()
    assert (event.state, event.attempts) == (State.PROCESSED, 2)


def test_an_event_whose_worker_keeps_dying_ends_failed(account_ig, frozen):
    event = stored_event(webhook_fixture("message_text"))
    WebhookEvent.objects.filter(pk=event.pk).update(state=State.PROCESSING, attempts=MAX_ATTEMPTS)
    frozen.shift(timedelta(minutes=2))
    webhook_events_sweep()
    event.refresh_from_db()
    assert event.state == State.FAILED
    assert "gave up" in event.last_error
    assert not Message.objects.exists()


def test_events_for_an_unknown_account_wait_until_it_is_connected(deliver, frozen):
    deliver(webhook_fixture("message_text"))
    event = WebhookEvent.objects.get()
    assert event.state == State.WAITING_ACCOUNT
    assert IG_ID in event.last_error
    frozen.shift(timedelta(minutes=5))
    assert webhook_events_sweep() == []  # still no such account: nothing to do
    AccountFactory(ig_id=IG_ID)
    assert webhook_events_sweep() == [event.pk]
    event.refresh_from_db()
    assert event.state == State.PROCESSED
    assert Message.objects.get().account.ig_id == IG_ID


def test_a_multi_account_batch_applies_everything_in_every_list(deliver, account_ig):
    second = AccountFactory(ig_id=OTHER_IG_ID)
    deliver(webhook_fixture("batch_multi_account"))
    assert WebhookEvent.objects.get().state == State.PROCESSED
    first_texts = set(account_ig.conversations.get().messages.values_list("text", flat=True))
    assert first_texts == {"First account, messaging", "First account, standby"}
    second_texts = set(second.conversations.get().messages.values_list("text", flat=True))
    assert second_texts == {"Second account, messaging", "Second account, changes"}
    assert Reaction.objects.get().emoji == "👍"


def test_a_batch_with_one_unknown_account_applies_the_rest_now(deliver, account_ig, frozen):
    deliver(webhook_fixture("batch_multi_account"))
    event = WebhookEvent.objects.get()
    assert event.state == State.WAITING_ACCOUNT
    assert Message.objects.count() == 2
    AccountFactory(ig_id=OTHER_IG_ID)
    webhook_events_sweep()
    event.refresh_from_db()
    assert event.state == State.PROCESSED
    assert Message.objects.count() == 4
    assert Conversation.objects.count() == 2


def test_the_dashboard_test_event_is_kept_waiting_for_account_zero(deliver):
    assert deliver(webhook_fixture("changes_test")).status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.state, event.account_ids) == (State.WAITING_ACCOUNT, ["0"])


def test_the_sweep_is_cheap_when_there_is_nothing_to_do(django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        assert webhook_events_sweep() == []


def test_a_full_batch_of_a_thousand_updates_is_applied(deliver, account_ig):
    items = [
        message_item(f"m-{n}", f"message {n}", ts=1760000000000 + n, sender=f"7{n % 40:015d}")
        for n in range(1000)
    ]
    assert deliver(webhook_body(*items)).status_code == 200
    assert WebhookEvent.objects.get().state == State.PROCESSED
    assert Message.objects.count() == 1000
    assert Conversation.objects.count() == 40
