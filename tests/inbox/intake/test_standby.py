"""Threads another app controls: `standby` events, signed through the real webhook, are stored
as received on standby, and the thread says another app controls the conversation."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from inbox.models import Conversation, Message, WebhookEvent
from tests.factories import AccountFactory
from tests.webhooks import (
    BASE_MS,
    CUSTOMER,
    IG_ID,
    event_item,
    message_item,
    webhook_body,
    webhook_fixture,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_meta")]

STANDBY_AT = datetime(2025, 10, 9, 8, 53, 20, 120_000, tzinfo=UTC)  # standby.json's timestamp


@pytest.fixture
def account(fake_meta):
    fake_meta.get(
        f"https://graph.instagram.com/v24.0/{CUSTOMER}",
        json={"name": "Jane Doe", "username": "jane.doe"},
    )
    return AccountFactory(ig_id=IG_ID)


def test_it_stores_a_standby_message_as_received_on_standby(deliver, account):
    assert deliver(webhook_fixture("standby")).status_code == 200
    message = Message.objects.get()
    assert (message.text, message.direction, message.via_standby) == (
        "Hello from standby",
        "in",
        True,
    )
    conversation = message.conversation
    assert conversation.other_app_since == STANDBY_AT
    # The customer wrote: the reply window counts from it like from any message.
    assert conversation.last_customer_message_at == STANDBY_AT


def test_it_marks_the_thread_when_the_standby_item_is_applied_on_its_own(deliver, account):
    # A read beside the message sends the event down the one-item-at-a-time path.
    body = webhook_fixture("standby")
    body["entry"][0]["standby"].append(event_item("read", {"mid": "m-unknown"}, ts=BASE_MS))
    deliver(body)
    message = Message.objects.get()
    assert message.via_standby
    assert message.conversation.other_app_since == STANDBY_AT
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED


def test_a_redelivered_standby_message_is_stored_once(deliver, account):
    body = webhook_fixture("standby")
    deliver(body)
    body["entry"][0]["time"] += 5000
    deliver(body)
    assert Message.objects.count() == 1


def test_the_thread_says_another_app_controls_the_conversation(
    deliver, account, client, admin_user
):
    deliver(webhook_fixture("standby"))
    client.force_login(admin_user)
    conversation = Conversation.objects.get()
    with time_machine.travel(STANDBY_AT + timedelta(hours=1), tick=False):
        page = client.get(reverse("inbox:conversation_detail", args=[conversation.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Another app controls this conversation" in html
    assert "Instagram's own inbox or a bot" in html
    assert "On standby" in html
    # Replying stays possible: Meta decides, and a refusal says why.
    assert '<textarea name="text"' in html
    assert "No reply can be sent now" not in html


def test_a_customer_message_on_messaging_hands_the_thread_back(
    deliver, account, client, admin_user
):
    deliver(webhook_fixture("standby"))
    deliver(webhook_body(message_item("m-back", "Are you there?", ts=BASE_MS + 60_000)))
    conversation = Conversation.objects.get()
    assert conversation.other_app_since is None
    assert not conversation.messages.get(mid="m-back").via_standby
    client.force_login(admin_user)
    html = client.get(reverse("inbox:conversation_detail", args=[conversation.pk])).content
    assert b"Another app controls this conversation" not in html
    assert b"On standby" in html  # the earlier message keeps its mark


def test_an_older_messaging_event_arriving_late_leaves_the_thread_with_the_other_app(
    deliver, account
):
    deliver(webhook_fixture("standby"))
    deliver(webhook_fixture("message_text"))  # timestamped before the standby message
    assert Message.objects.count() == 2
    assert Conversation.objects.get().other_app_since == STANDBY_AT


def test_a_standby_echo_is_stored_as_the_other_apps_reply(deliver, account):
    deliver(webhook_fixture("standby_echo"))
    message = Message.objects.get()
    assert (message.direction, message.origin, message.via_standby) == (
        "out",
        "business_app",
        True,
    )
    assert message.conversation.other_app_since is not None


def test_a_standby_message_with_odd_fields_never_fails_the_webhook(deliver, account):
    body = webhook_body({"sender": "nobody", "message": {"mid": 7}}, source="standby")
    assert deliver(body).status_code == 200
    assert Conversation.objects.filter(other_app_since__isnull=False).count() == 0
