"""reply_create / reply_refusal / message_retry: what the reply box calls."""

from datetime import timedelta

import pytest
import time_machine

from accounts.models import InstagramAccount
from inbox.models import Conversation, Message
from inbox.outbound.replies import (
    TEXT_LIMIT_BYTES,
    ReplyRefused,
    RetryNeedsConfirmation,
    message_retry,
    reply_create,
    reply_refusal,
)

from .sendkit import (
    T0,
    answer_ok,
    bodies,
    reply,
)

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


@pytest.fixture
def at_t0_plus_1h():
    with time_machine.travel(T0 + H, tick=False) as clock:
        yield clock


def send(convo, writer, capture, **kwargs):
    with capture(execute=True):
        return reply_create(conversation=convo, author=writer, **kwargs)


def refused(convo, writer, capture, **kwargs):
    with pytest.raises(ReplyRefused) as caught, capture(execute=True):
        reply_create(conversation=convo, author=writer, **kwargs)
    return caught.value.message


def test_it_stores_a_queued_reply_and_sends_it_after_commit(
    meta, convo, writer, at_t0_plus_1h, django_capture_on_commit_callbacks
):
    answer_ok(meta, convo.account)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = reply_create(conversation=convo, author=writer, text="  Thanks!  ")
    # Write-ahead: stored before anything is sent.
    stored = Message.objects.get(pk=message.pk)
    assert stored.status == Message.Status.QUEUED
    assert (stored.direction, stored.origin, stored.kind) == ("out", "agent", "text")
    assert stored.author == writer
    assert stored.text == "Thanks!"
    assert stored.tag == ""
    assert len(meta.calls) == 0
    convo.refresh_from_db()
    assert convo.last_message_preview == "You: Thanks!"
    assert convo.last_message_at == T0 + H

    for callback in callbacks:
        callback()
    stored.refresh_from_db()
    assert stored.status == Message.Status.SENT
    assert bodies(meta) == [
        {"recipient": {"id": convo.customer_igsid}, "message": {"text": "Thanks!"}}
    ]


@pytest.mark.parametrize(
    "text",
    ["é" * 500, "😀" * 250, "a" * 1000, "€" * 333 + "a"],
    ids=["2-byte", "4-byte", "ascii", "3-byte"],
)
def test_text_of_exactly_1000_bytes_is_sent(
    meta, convo, writer, at_t0_plus_1h, django_capture_on_commit_callbacks, text
):
    assert len(text.encode()) == TEXT_LIMIT_BYTES
    answer_ok(meta, convo.account)
    message = send(convo, writer, django_capture_on_commit_callbacks, text=text)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert bodies(meta)[0]["message"]["text"] == text


@pytest.mark.parametrize("text", ["é" * 500 + "a", "😀" * 250 + "a", "€" * 334])
def test_text_over_1000_bytes_is_refused_with_its_byte_count(
    meta, convo, writer, at_t0_plus_1h, django_capture_on_commit_callbacks, text
):
    size = len(text.encode())
    message = refused(convo, writer, django_capture_on_commit_callbacks, text=text)
    assert message == f"This message is {size:,} bytes; Instagram accepts at most 1,000."
    assert not Message.objects.filter(direction="out").exists()
    assert len(meta.calls) == 0


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({}, "Write a message"),
        ({"text": "   \n "}, "Write a message"),
        ({"sticker": True, "text": "hi"}, "sent on its own"),
        ({"sticker": True, "attachment_url": "https://x.test/a.png"}, "sent on its own"),
    ],
)
def test_it_refuses_an_empty_or_mixed_reply(
    convo, writer, at_t0_plus_1h, django_capture_on_commit_callbacks, kwargs, says
):
    assert says in refused(convo, writer, django_capture_on_commit_callbacks, **kwargs)


def test_it_refuses_past_7_days_before_storing_anything(
    meta, convo, writer, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0 + timedelta(days=7, seconds=1), tick=False):
        message = refused(convo, writer, django_capture_on_commit_callbacks, text="hi")
    assert "More than 7 days" in message
    assert "customer writes again" in message
    assert not Message.objects.filter(direction="out").exists()
    assert len(meta.calls) == 0


def test_reply_refusal_says_why_or_nothing(convo):
    assert reply_refusal(conversation=convo, now=T0 + H) == ""
    assert reply_refusal(conversation=convo, now=T0 + timedelta(hours=25)) == ""
    assert "7 days" in reply_refusal(conversation=convo, now=T0 + timedelta(days=8))
    convo.account.human_agent_enabled = False
    assert "human agent tag is off" in reply_refusal(
        conversation=convo, now=T0 + timedelta(hours=25)
    )
    never = Conversation(account=convo.account, customer_igsid="1")
    assert "has not written" in reply_refusal(conversation=never)


@pytest.mark.parametrize(
    ("status", "token", "says"),
    [
        ("needs_reconnect", "IGAAtoken", "needs to be reconnected by an admin"),
        ("active", "", "needs to be reconnected by an admin"),
        ("disconnected", "IGAAtoken", "disconnected"),
    ],
)
def test_an_account_that_cannot_send_is_refused(
    convo, writer, at_t0_plus_1h, django_capture_on_commit_callbacks, status, token, says
):
    account = convo.account
    account.status = status
    account.access_token = token
    if not token:
        account.token_ciphertext = ""
    account.save()
    assert says in reply_refusal(conversation=convo)
    assert says in refused(convo, writer, django_capture_on_commit_callbacks, text="hi")


def test_the_heart_sticker_is_its_own_message(
    meta, convo, writer, at_t0_plus_1h, django_capture_on_commit_callbacks
):
    answer_ok(meta, convo.account)
    message = send(convo, writer, django_capture_on_commit_callbacks, sticker=True)
    assert message.kind == Message.Kind.STICKER
    assert bodies(meta)[0]["message"] == {"attachment": {"type": "like_heart"}}
    convo.refresh_from_db()
    assert convo.last_message_preview == "You: ❤️"


def test_text_with_an_attachment_becomes_two_messages_attachment_first(
    meta, convo, writer, at_t0_plus_1h, django_capture_on_commit_callbacks
):
    answer_ok(meta, convo.account, mid="m_photo")
    answer_ok(meta, convo.account, mid="m_text")
    returned = send(
        convo,
        writer,
        django_capture_on_commit_callbacks,
        text="Here is the photo",
        attachment_url="https://cdn.test/p/photo.jpg",
    )
    photo, text = Message.objects.filter(direction="out").order_by("pk")
    assert returned == text
    assert photo.kind == Message.Kind.ATTACHMENT
    assert photo.attachments == [{"type": "image", "url": "https://cdn.test/p/photo.jpg"}]
    assert [b["message"] for b in bodies(meta)] == [
        {"attachment": {"type": "image", "payload": {"url": "https://cdn.test/p/photo.jpg"}}},
        {"text": "Here is the photo"},
    ]


# --- retry ----------------------------------------------------------------------------


def failed_reply(convo, writer, status=Message.Status.FAILED):
    return reply(
        convo,
        writer,
        status=status,
        attempts=6,
        error_code="http-500",
        error_reason="gave up",
        timestamp=T0 + timedelta(minutes=5),
    )


@pytest.mark.parametrize("status", [Message.Status.FAILED, Message.Status.UNKNOWN])
def test_an_agent_retries_a_failed_or_unknown_message(
    meta, convo, writer, at_t0_plus_1h, django_capture_on_commit_callbacks, status
):
    answer_ok(meta, convo.account, mid="again")
    message = failed_reply(convo, writer, status)
    with django_capture_on_commit_callbacks(execute=True):
        retried = message_retry(message=message, author=writer, confirmed=True)
    assert retried.pk == message.pk
    retried.refresh_from_db()
    assert retried.status == Message.Status.SENT
    assert retried.mid == "again"
    assert retried.attempts == 1
    assert retried.error_reason == ""
    assert retried.timestamp == T0 + H  # moved to where the customer will see it
    assert len(meta.calls) == 1


def test_it_sends_an_unknown_reply_again_only_once_confirmed(
    meta, convo, writer, at_t0_plus_1h, django_capture_on_commit_callbacks
):
    message = failed_reply(convo, writer, Message.Status.UNKNOWN)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RetryNeedsConfirmation),
    ):
        message_retry(message=message, author=writer)
    message.refresh_from_db()
    assert message.status == Message.Status.UNKNOWN
    assert len(meta.calls) == 0


def test_a_retry_rechecks_the_window(convo, writer, django_capture_on_commit_callbacks):
    message = failed_reply(convo, writer)
    with time_machine.travel(T0 + timedelta(days=8), tick=False), pytest.raises(ReplyRefused):
        message_retry(message=message, author=writer)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED


@pytest.mark.parametrize("status", [Message.Status.SENT, Message.Status.QUEUED])
def test_only_failed_messages_can_be_retried(convo, writer, at_t0_plus_1h, status):
    message = reply(convo, writer, status=status)
    with pytest.raises(ReplyRefused, match="only failed messages"):
        message_retry(message=message, author=writer)


def test_a_customer_message_cannot_be_retried(convo, writer, at_t0_plus_1h):
    from tests.factories import MessageFactory

    with pytest.raises(ReplyRefused, match="Only replies sent from this inbox"):
        message_retry(message=MessageFactory(conversation=convo), author=writer)


def test_a_broker_outage_does_not_fail_the_request(
    convo, writer, at_t0_plus_1h, django_capture_on_commit_callbacks, monkeypatch
):
    from kombu.exceptions import OperationalError

    from inbox.outbound.tasks import message_send_task

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to broker")

    monkeypatch.setattr(message_send_task, "apply_async", down)
    message = send(convo, writer, django_capture_on_commit_callbacks, text="hi")
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED  # the sweep will send it


def test_a_needs_reconnect_account_keeps_its_queued_replies(convo, writer, at_t0_plus_1h):
    message = reply(convo, writer)
    InstagramAccount.objects.filter(pk=convo.account_id).update(status="needs_reconnect")
    from inbox.outbound.tasks import message_send_task

    message_send_task(message.pk)
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert message.attempts == 0
