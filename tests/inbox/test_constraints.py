"""The database itself refuses duplicates and values outside the choices."""

import pytest
from django.db import IntegrityError, transaction

from inbox.models import Conversation, Message, Reaction, WebhookEvent
from tests.factories import (
    AccountFactory,
    ConversationFactory,
    MessageFactory,
    OutboundMessageFactory,
)

pytestmark = pytest.mark.django_db


def test_it_refuses_a_second_conversation_for_the_same_customer():
    conversation = ConversationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.create(
            account=conversation.account, customer_igsid=conversation.customer_igsid
        )


def test_it_allows_the_same_customer_id_on_another_account():
    conversation = ConversationFactory()
    other = ConversationFactory(customer_igsid=conversation.customer_igsid)
    assert other.pk != conversation.pk


def test_it_refuses_a_duplicate_mid_within_an_account():
    message = MessageFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        MessageFactory(conversation=message.conversation, mid=message.mid)


def test_it_allows_many_queued_messages_without_a_mid():
    conversation = ConversationFactory()
    OutboundMessageFactory(conversation=conversation)
    OutboundMessageFactory(conversation=conversation)
    assert conversation.messages.filter(mid="").count() == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("direction", "up"),
        ("origin", "robot"),
        ("kind", "hologram"),
        ("status", "lost"),
        ("tag", "ACCOUNT_UPDATE"),
    ],
)
def test_it_refuses_a_message_value_outside_its_choices(field, value):
    message = OutboundMessageFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.filter(pk=message.pk).update(**{field: value})


def test_it_refuses_an_inbound_message_with_a_delivery_status():
    with pytest.raises(IntegrityError), transaction.atomic():
        MessageFactory(status=Message.Status.SENT)


def test_it_refuses_an_outbound_message_without_a_delivery_status():
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboundMessageFactory(status="")


def test_it_refuses_an_outbound_message_from_the_customer():
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboundMessageFactory(origin=Message.Origin.CUSTOMER)


def test_it_refuses_a_conversation_status_outside_its_choices():
    conversation = ConversationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(status="snoozed")


def test_it_refuses_a_second_reaction_from_the_same_side():
    message = MessageFactory()
    Reaction.objects.create(message=message, actor="customer", reaction="love", emoji="❤️")
    with pytest.raises(IntegrityError), transaction.atomic():
        Reaction.objects.create(message=message, actor="customer", reaction="like")
    Reaction.objects.create(message=message, actor="business", reaction="love")


def test_it_refuses_an_account_status_outside_its_choices():
    account = AccountFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(account).objects.filter(pk=account.pk).update(status="paused")


def test_it_refuses_a_byte_identical_webhook_body_twice():
    WebhookEvent.objects.create(body="{}", body_sha256="a" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookEvent.objects.create(body="{}", body_sha256="a" * 64)


def test_it_refuses_a_webhook_state_outside_its_choices():
    event = WebhookEvent.objects.create(body="{}", body_sha256="b" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookEvent.objects.filter(pk=event.pk).update(state="exploded")
