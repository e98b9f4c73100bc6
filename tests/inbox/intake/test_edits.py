"""Edits never lose text: with or without the new text in the webhook, in any order."""

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.intake.sweep import webhook_events_sweep
from inbox.models import Conversation, Message, WebhookEvent
from inbox.services.edits import message_edit_fetch
from inbox.tasks import message_edit_fetch_task
from tests.factories import AccountFactory
from tests.fixtures import meta_fixture
from tests.webhooks import BASE_MS, IG_ID, TEXT_MID, webhook_body, webhook_fixture

pytestmark = pytest.mark.django_db

ORIGINAL = "Hi! Is the blue jacket still available?"
FETCHED = meta_fixture("graph", "message_text")["message"]
IN_WEBHOOK = "Hi! Is the blue jacket still available in M?"
SECOND = "Hi! Is the blue jacket still available in L?"
MESSAGE_URL = f"https://graph.instagram.com/v24.0/{TEXT_MID}"
TOKEN = "IGAAedittesttoken1234567890"


@pytest.fixture
def account():
    return AccountFactory(ig_id=IG_ID, access_token=TOKEN)


@pytest.fixture
def received(deliver, account, fake_meta):
    """The customer's text message, already in the inbox."""
    deliver(webhook_fixture("message_text"))
    return Message.objects.get(mid=TEXT_MID)


def message_calls(fake_meta):
    return [c for c in fake_meta.calls if c.request.url.startswith(MESSAGE_URL)]


def meta_answers(fake_meta, *answers):
    """`GET /{mid}` answers these, in turn (the last one again if asked more)."""
    for answer in answers:
        fake_meta.get(MESSAGE_URL, **answer)


OK = {"json": meta_fixture("graph", "message_text")}
DOWN = {"json": meta_fixture("graph", "error_transient"), "status": 500}
REFUSED = {"json": meta_fixture("graph", "error_190"), "status": 400}


def worker_retries(message_id, num_edit=1):
    """Run the retries the first try asked for, as a worker would (without the wait).
    Returns the back-off of each retry the task asked for."""
    waits = []
    for retries in range(1, 10):
        try:
            message_edit_fetch_task.apply(args=(message_id, num_edit), retries=retries)
        except Retry as e:
            waits.append(e.when)
        else:
            return waits
    raise AssertionError("the task kept asking for retries")


def event_state():
    return WebhookEvent.objects.order_by("-id").first()


# --- an edit without its text ----------------------------------------------------------
def test_it_reads_the_new_text_from_meta_and_keeps_the_old_one(deliver, received, fake_meta):
    meta_answers(fake_meta, OK)
    deliver(webhook_fixture("message_edit_no_text"))
    received.refresh_from_db()
    assert received.text == FETCHED
    assert (received.edit_count, received.text_edit_count) == (1, 1)
    assert [v["text"] for v in received.earlier_texts] == [ORIGINAL]
    assert not received.edit_text_pending
    assert Conversation.objects.get().last_message_preview == FETCHED
    (call,) = message_calls(fake_meta)
    assert call.request.params == {"fields": "message"}
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_it_keeps_the_text_while_meta_is_down_and_retries_until_it_answers(
    deliver, received, fake_meta
):
    meta_answers(fake_meta, DOWN, OK)
    deliver(webhook_fixture("message_edit_no_text"))
    received.refresh_from_db()
    assert received.text == ORIGINAL  # the first try failed: nothing blanked
    assert received.edit_text_pending
    assert worker_retries(received.pk) == []
    received.refresh_from_db()
    assert received.text == FETCHED
    assert len(message_calls(fake_meta)) == 2


def test_it_gives_up_after_a_few_failures_without_blanking_the_text(deliver, received, fake_meta):
    meta_answers(fake_meta, DOWN)
    deliver(webhook_fixture("message_edit_no_text"))
    assert worker_retries(received.pk) == [60, 120, 240]  # after the first retry's 30 s
    received.refresh_from_db()
    assert received.text == ORIGINAL
    assert received.edit_text_pending
    assert received.earlier_texts == []
    assert len(message_calls(fake_meta)) == 5  # the first try and four retries
    assert Conversation.objects.get().last_message_preview == ORIGINAL


def test_a_refused_token_marks_the_account_and_keeps_the_text(deliver, received, fake_meta):
    meta_answers(fake_meta, REFUSED)
    deliver(webhook_fixture("message_edit_no_text"))
    received.refresh_from_db()
    assert received.text == ORIGINAL
    assert len(message_calls(fake_meta)) == 1  # never retried
    account = InstagramAccount.objects.get()
    assert account.status == InstagramAccount.Status.NEEDS_RECONNECT
    assert "reading an edited message" in account.status_reason


@pytest.mark.parametrize(
    "answer",
    [{"id": TEXT_MID}, {"id": TEXT_MID, "message": ""}, {"id": TEXT_MID, "message": 42}],
    ids=["absent", "empty", "not-text"],
)
def test_a_fetched_text_that_is_empty_or_absent_changes_nothing(
    deliver, received, fake_meta, answer
):
    meta_answers(fake_meta, {"json": answer})
    deliver(webhook_fixture("message_edit_no_text"))
    received.refresh_from_db()
    assert received.text == ORIGINAL
    assert received.earlier_texts == []
    assert len(message_calls(fake_meta)) == 1


def test_a_redelivered_edit_reads_nothing_more(deliver, received, fake_meta):
    meta_answers(fake_meta, OK)
    deliver(webhook_fixture("message_edit_no_text"))
    again = webhook_fixture("message_edit_no_text")
    again["entry"][0]["time"] += 1
    deliver(again)
    received.refresh_from_db()
    assert len(received.earlier_texts) == 1
    assert len(message_calls(fake_meta)) == 1


def test_an_unsend_before_the_fetch_is_not_undone_by_it(deliver, received, fake_meta):
    meta_answers(fake_meta, OK)
    Message.objects.filter(pk=received.pk).update(edit_count=1)
    deliver(webhook_fixture("message_deleted"))
    assert message_edit_fetch(message_id=received.pk, num_edit=1) is False
    received.refresh_from_db()
    assert (received.is_deleted, received.text) == (True, "")
    assert not message_calls(fake_meta)


# --- an edit with its text -------------------------------------------------------------
def test_an_edit_with_its_text_is_stored_at_once_and_the_old_one_kept(deliver, received, fake_meta):
    deliver(webhook_fixture("message_edit"))
    received.refresh_from_db()
    assert received.text == IN_WEBHOOK
    assert received.earlier_texts[0]["text"] == ORIGINAL
    assert received.earlier_texts[0]["edit"] == 0
    assert not message_calls(fake_meta)


def test_two_edits_keep_both_earlier_versions_in_order(deliver, received):
    deliver(webhook_fixture("message_edit"))
    deliver(webhook_fixture("message_edit_second"))
    received.refresh_from_db()
    assert received.text == SECOND
    assert [v["text"] for v in received.earlier_texts] == [ORIGINAL, IN_WEBHOOK]
    assert Conversation.objects.get().last_message_preview == SECOND


# --- order -----------------------------------------------------------------------------
def test_an_older_edit_after_a_newer_one_changes_nothing(deliver, received, fake_meta):
    deliver(webhook_fixture("message_edit_second"))
    deliver(webhook_fixture("message_edit"))
    deliver(webhook_fixture("message_edit_no_text"))
    received.refresh_from_db()
    assert (received.text, received.edit_count) == (SECOND, 2)
    assert [v["text"] for v in received.earlier_texts] == [ORIGINAL]
    assert not message_calls(fake_meta)


def test_a_late_fetch_never_replaces_a_newer_edit(deliver, received, fake_meta):
    meta_answers(fake_meta, OK)
    deliver(webhook_fixture("message_edit_second"))
    assert message_edit_fetch(message_id=received.pk, num_edit=1) is False
    received.refresh_from_db()
    assert received.text == SECOND
    assert not message_calls(fake_meta)


def test_a_text_edit_while_a_later_one_is_being_read_still_shows(deliver, received, fake_meta):
    meta_answers(fake_meta, DOWN)
    no_text = webhook_fixture("message_edit_no_text")
    no_text["entry"][0]["messaging"][0]["message_edit"]["num_edit"] = 3
    deliver(no_text)
    deliver(webhook_fixture("message_edit_second"))
    received.refresh_from_db()
    assert received.text == SECOND
    assert (received.edit_count, received.text_edit_count) == (3, 2)
    assert received.edit_text_pending


def test_an_edit_numbered_zero_changes_nothing(deliver, received, fake_meta):
    body = webhook_fixture("message_edit")
    body["entry"][0]["messaging"][0]["message_edit"]["num_edit"] = 0
    deliver(body)
    received.refresh_from_db()
    assert (received.text, received.edit_count) == (ORIGINAL, 0)
    assert not message_calls(fake_meta)


# --- an edit before its message --------------------------------------------------------
@pytest.mark.parametrize("fixture", ["message_edit_no_text", "message_edit"])
def test_an_edit_before_its_message_is_applied_once_the_message_arrives(
    deliver, account, fake_meta, time_machine, django_capture_on_commit_callbacks, fixture
):
    meta_answers(fake_meta, OK)
    time_machine.move_to(timezone.now())
    deliver(webhook_fixture(fixture))
    edit_event = event_state()
    assert edit_event.state == WebhookEvent.State.PENDING
    deliver(webhook_fixture("message_text"))
    time_machine.shift(timedelta(seconds=20))
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_events_sweep()
    edit_event.refresh_from_db()
    assert edit_event.state == WebhookEvent.State.PROCESSED
    message = Message.objects.get()
    assert message.text == (FETCHED if fixture == "message_edit_no_text" else IN_WEBHOOK)
    assert [v["text"] for v in message.earlier_texts] == [ORIGINAL]


# --- bad input -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "edit",
    [
        {"mid": TEXT_MID, "num_edit": "two"},
        {"mid": TEXT_MID, "num_edit": -3, "text": "odd"},
        {"mid": TEXT_MID, "num_edit": None, "text": None},
        {"mid": TEXT_MID, "num_edit": 2, "text": {"not": "text"}},
        {"mid": TEXT_MID, "num_edit": 10**20, "text": "huge"},
        {"mid": TEXT_MID, "num_edit": "99999999999999999999999"},
        {"mid": TEXT_MID, "text": ""},
        {"num_edit": 1, "text": "no mid"},
    ],
)
def test_odd_edits_answer_200_and_never_blank_the_text(deliver, received, fake_meta, edit):
    meta_answers(fake_meta, {"json": {"id": TEXT_MID}})
    response = deliver(webhook_body({"timestamp": BASE_MS + 70, "message_edit": edit}))
    assert response.status_code == 200
    assert event_state().state == WebhookEvent.State.PROCESSED
    received.refresh_from_db()
    assert received.text in (ORIGINAL, "huge")
    assert received.edit_count <= 2_147_483_647
