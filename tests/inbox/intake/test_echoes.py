"""Echoes: messages the business sent, from the Instagram app or from this inbox."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from inbox.models import Conversation, Message
from tests.factories import AccountFactory, ConversationFactory, OutboundMessageFactory
from tests.webhooks import CUSTOMER, ECHO_MID, IG_ID, echo_item, webhook_body, webhook_fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_meta")]


@pytest.fixture
def account():
    return AccountFactory(ig_id=IG_ID)


@pytest.fixture
def conversation(account):
    # A conversation whose last activity is older than the fixtures' clock.
    return ConversationFactory(
        account=account,
        customer_igsid=CUSTOMER,
        last_message_at=None,
        last_customer_message_at=timezone.now() - timedelta(days=3),
    )


def test_an_echo_from_the_instagram_app_appears_as_outbound(deliver, account, conversation):
    deliver(webhook_fixture("message_echo"))
    message = Message.objects.get()
    assert message.mid == ECHO_MID
    assert (message.direction, message.origin, message.status) == ("out", "business_app", "sent")
    assert message.text == "Yes! Sizes S to L are in stock."
    assert message.sent_at == message.timestamp
    conversation.refresh_from_db()
    assert conversation.last_message_preview == "You: Yes! Sizes S to L are in stock."


def test_an_echo_does_not_move_the_reply_window(deliver, account, conversation):
    before = conversation.last_customer_message_at
    deliver(webhook_fixture("message_echo"))
    conversation.refresh_from_db()
    assert conversation.last_customer_message_at == before


def test_an_echo_to_a_new_customer_creates_the_conversation(deliver, account):
    deliver(webhook_fixture("message_echo"))
    assert Conversation.objects.get().customer_igsid == CUSTOMER


@pytest.mark.parametrize("status", ["queued", "sending", "unknown"])
def test_the_echo_of_our_send_marks_it_sent_and_creates_nothing(deliver, conversation, status):
    ours = OutboundMessageFactory(conversation=conversation, mid=ECHO_MID, status=status)
    deliver(webhook_fixture("message_echo"))
    ours.refresh_from_db()
    assert ours.status == Message.Status.SENT
    assert Message.objects.count() == 1


def test_the_echo_of_a_seen_send_leaves_it_seen(deliver, conversation):
    ours = OutboundMessageFactory(conversation=conversation, mid=ECHO_MID, status="seen")
    deliver(webhook_fixture("message_echo"))
    ours.refresh_from_db()
    assert ours.status == Message.Status.SEEN


def test_an_echo_before_our_send_returns_adopts_the_send(deliver, conversation):
    ours = OutboundMessageFactory(
        conversation=conversation, text="Yes! Sizes S to L are in stock.", status="sending"
    )
    deliver(webhook_fixture("message_echo"))
    ours.refresh_from_db()
    assert (ours.mid, ours.status) == (ECHO_MID, Message.Status.SENT)
    assert ours.origin == Message.Origin.AGENT
    assert Message.objects.count() == 1


def test_adoption_takes_the_oldest_of_identical_sends(deliver, conversation):
    first = OutboundMessageFactory(conversation=conversation, text="ok", status="sending")
    second = OutboundMessageFactory(conversation=conversation, text="ok", status="queued")
    deliver(webhook_body(echo_item("m-echo-1", "ok")))
    deliver(webhook_body(echo_item("m-echo-2", "ok")))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.mid, second.mid) == ("m-echo-1", "m-echo-2")
    assert Message.objects.count() == 2


def test_an_echo_adopts_a_send_by_its_single_attachment(deliver, conversation):
    url = "https://inbox.example.com/media/uploads/photo.jpg"
    ours = OutboundMessageFactory(
        conversation=conversation,
        text="",
        kind=Message.Kind.ATTACHMENT,
        attachments=[{"type": "image", "url": url}],
        status="sending",
    )
    deliver(
        webhook_body(echo_item("m-photo", attachments=[{"type": "image", "payload": {"url": url}}]))
    )
    ours.refresh_from_db()
    assert ours.mid == "m-photo"
    assert Message.objects.count() == 1


def test_an_echo_does_not_adopt_an_old_or_different_or_finished_send(deliver, conversation):
    with time_machine.travel(timezone.now() - timedelta(minutes=16)):
        old = OutboundMessageFactory(conversation=conversation, text="same", status="sending")
    other_text = OutboundMessageFactory(conversation=conversation, text="other", status="sending")
    failed = OutboundMessageFactory(conversation=conversation, text="same", status="failed")
    other_conversation = ConversationFactory(account=conversation.account)
    elsewhere = OutboundMessageFactory(
        conversation=other_conversation, text="same", status="sending"
    )
    deliver(webhook_body(echo_item("m-same", "same")))
    for message in (old, other_text, failed, elsewhere):
        message.refresh_from_db()
        assert message.mid == ""
    created = Message.objects.get(mid="m-same")
    assert created.origin == Message.Origin.BUSINESS_APP


def test_a_redelivered_echo_is_stored_once(deliver, conversation):
    deliver(webhook_fixture("message_echo"))
    body = webhook_fixture("message_echo")
    body["entry"][0]["time"] += 1
    deliver(body)
    assert Message.objects.count() == 1


def test_an_echo_of_an_unsent_business_message_removes_its_content(deliver, conversation):
    deliver(webhook_fixture("message_echo"))
    deliver(webhook_body(echo_item(ECHO_MID, is_deleted=True)))
    message = Message.objects.get()
    assert message.is_deleted
    assert message.text == ""
