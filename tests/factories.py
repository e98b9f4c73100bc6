from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import Conversation, Message


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"agent{n}")
    password = factory.django.Password("secret-pass-123")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InstagramAccount
        skip_postgeneration_save = True

    ig_id = factory.Sequence(lambda n: f"1784140000000{n:04d}")
    username = factory.Sequence(lambda n: f"shop{n}")
    name = factory.Sequence(lambda n: f"Shop {n}")
    graph_api_url = "https://graph.instagram.com/v24.0"
    source = InstagramAccount.Source.OAUTH
    access_token = factory.Sequence(lambda n: f"IGAAtesttoken{n:06d}secretvalue")
    token_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=50))

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            self.members.add(*extracted)


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    account = factory.SubFactory(AccountFactory)
    customer_igsid = factory.Sequence(lambda n: f"9{n:016d}")
    customer_username = factory.Sequence(lambda n: f"customer{n}")
    customer_name = factory.Sequence(lambda n: f"Customer {n}")
    last_customer_message_at = factory.LazyFunction(timezone.now)
    last_inbound_received_at = factory.LazyFunction(timezone.now)
    last_message_at = factory.LazyFunction(timezone.now)


class MessageFactory(factory.django.DjangoModelFactory):
    """An inbound text message from the customer."""

    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    account = factory.LazyAttribute(lambda m: m.conversation.account)
    mid = factory.Sequence(lambda n: f"aWdfZAG1faWQ{n:08d}")
    direction = Message.Direction.INBOUND
    origin = Message.Origin.CUSTOMER
    kind = Message.Kind.TEXT
    text = factory.Sequence(lambda n: f"Hello {n}")
    timestamp = factory.LazyFunction(timezone.now)
    edit_count = 0
    text_edit_count = factory.SelfAttribute("edit_count")  # an edited text holds its edit's


class OutboundMessageFactory(MessageFactory):
    """A reply written by an agent here, queued for sending."""

    mid = ""
    direction = Message.Direction.OUTBOUND
    origin = Message.Origin.AGENT
    status = Message.Status.QUEUED
    text = factory.Sequence(lambda n: f"Reply {n}")


def conversations_listed(account, names=("Ann", "Ben", "Cat")):
    """Conversations of `account`, one per name, listed newest first in that order."""
    now = timezone.now()
    return [
        ConversationFactory(
            account=account,
            customer_name=name,
            last_message_at=now - timedelta(minutes=i + 1),
            last_message_preview=f"{name} wrote",
        )
        for i, name in enumerate(names)
    ]
