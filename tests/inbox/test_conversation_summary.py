from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Conversation
from inbox.services.conversations import conversation_record_message
from tests.factories import ConversationFactory, MessageFactory, OutboundMessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation():
    return ConversationFactory(
        last_customer_message_at=None, last_message_at=None, last_inbound_received_at=None
    )


def test_it_moves_the_clocks_forward_only(conversation):
    now = timezone.now()
    newer = MessageFactory(conversation=conversation, text="second", timestamp=now)
    older = MessageFactory(conversation=conversation, text="first", timestamp=now - timedelta(1))
    conversation_record_message(message=newer)
    conversation_record_message(message=older)
    conversation.refresh_from_db()
    assert conversation.last_customer_message_at == now
    assert conversation.last_message_at == now
    assert conversation.last_message_preview == "second"


def test_a_customer_message_reopens_a_closed_conversation(conversation):
    conversation.status = Conversation.Status.CLOSED
    conversation.save()
    conversation_record_message(message=MessageFactory(conversation=conversation))
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.last_inbound_received_at is not None


def test_a_reply_does_not_move_the_window_clock(conversation):
    conversation_record_message(message=OutboundMessageFactory(conversation=conversation))
    conversation.refresh_from_db()
    assert conversation.last_customer_message_at is None
    assert conversation.last_message_preview.startswith("You: ")


@pytest.mark.parametrize("kind", ["postback", "referral", "optin"])
def test_a_customer_action_opens_the_window_and_reopens(conversation, kind):
    conversation.status = Conversation.Status.CLOSED
    conversation.save()
    action = MessageFactory(conversation=conversation, kind=kind, text="Get started")
    conversation_record_message(message=action)
    conversation.refresh_from_db()
    assert conversation.last_customer_message_at == action.timestamp
    assert conversation.last_inbound_received_at is not None
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.last_message_at == action.timestamp


def test_it_updates_in_one_query(conversation, django_assert_num_queries):
    message = MessageFactory(conversation=conversation)
    # The summary; then, once committed, the conversation's and the account's live stamps.
    with django_assert_num_queries(3):
        conversation_record_message(message=message)
