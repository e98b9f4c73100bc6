"""Customer actions travel as signed Meta webhooks through the real intake into the inbox."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Conversation, Message, Reaction
from sandbox.customers import (
    customer_age,
    customer_create,
    customer_mark_read,
    customer_message_send,
    customer_react,
    customer_unsend,
)
from sandbox.fake_meta import graph_message_receive
from sandbox.models import SimulatedMessage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def webhook_url(live_server, settings):
    settings.SANDBOX_ENABLED = True
    settings.INSTAGRAM_CLIENT_SECRET = "sandbox-app-secret"
    settings.SITE_URL = live_server.url
    from sandbox.account import sandbox_account_sync

    sandbox_account_sync()
    return f"{live_server.url}/webhooks/instagram/"


@pytest.fixture
def customer(webhook_url):
    return customer_create(name="Maya Lopez", username="maya.lopez")


def conversation_of(customer):
    return Conversation.objects.get(customer_igsid=customer.igsid)


def business_reply(customer, webhook_url, text="Hello from the shop"):
    from django.conf import settings

    status, answer = graph_message_receive(
        ig_id=settings.SANDBOX_ACCOUNT_ID,
        body={"recipient": {"id": customer.igsid}, "message": {"text": text}},
        webhook_url=webhook_url,
    )
    assert status == 200, answer
    return answer["message_id"]


def test_a_typed_message_arrives_in_the_inbox(customer, webhook_url):
    customer_message_send(customer=customer, webhook_url=webhook_url, text="Is this in stock?")
    message = conversation_of(customer).messages.get()
    assert message.text == "Is this in stock?"
    assert message.origin == Message.Origin.CUSTOMER


def test_an_image_url_arrives_as_an_attachment(customer, webhook_url):
    customer_message_send(
        customer=customer, webhook_url=webhook_url, image_url="https://example.com/a.jpg"
    )
    [attachment] = conversation_of(customer).messages.get().attachments
    assert attachment["type"] == "image"
    assert attachment["url"] == "https://example.com/a.jpg"


def test_the_business_reply_is_echoed_once(customer, webhook_url):
    customer_message_send(customer=customer, webhook_url=webhook_url, text="Hi")
    mid = business_reply(customer, webhook_url)
    echo = conversation_of(customer).messages.get(mid=mid)
    assert echo.origin == Message.Origin.BUSINESS_APP  # sent outside this inbox's send path
    assert echo.text == "Hello from the shop"


def test_react_unsend_and_read_reach_the_inbox(customer, webhook_url):
    customer_message_send(customer=customer, webhook_url=webhook_url, text="First")
    mid = business_reply(customer, webhook_url)
    customer_react(customer=customer, webhook_url=webhook_url)
    assert Reaction.objects.get(message__mid=mid, actor="customer").emoji == "❤️"
    customer_react(customer=customer, webhook_url=webhook_url)
    assert not Reaction.objects.filter(message__mid=mid).exists()

    customer_mark_read(customer=customer, webhook_url=webhook_url)
    assert conversation_of(customer).messages.get(mid=mid).status == Message.Status.SEEN

    customer_unsend(customer=customer, webhook_url=webhook_url)
    first = conversation_of(customer).messages.get(direction="in")
    assert first.is_deleted
    assert first.text == ""


def test_time_travel_ages_both_sides(customer, webhook_url):
    customer_message_send(customer=customer, webhook_url=webhook_url, text="Hi")
    before = conversation_of(customer).last_customer_message_at
    customer_age(customer=customer, hours=25)
    assert conversation_of(customer).last_customer_message_at == before - timedelta(hours=25)
    customer.refresh_from_db()
    assert timezone.now() - customer.last_message_at > timedelta(hours=25)
    assert SimulatedMessage.objects.get().timestamp < timezone.now() - timedelta(hours=24)
