"""Customer messages of every kind, from a signed webhook to the inbox."""

from datetime import UTC, datetime, timedelta

import pytest

from inbox.models import Conversation, Message, WebhookEvent
from tests.factories import AccountFactory
from tests.webhooks import (
    BASE_MS,
    CUSTOMER,
    IG_ID,
    TEXT_MID,
    message_item,
    webhook_body,
    webhook_fixture,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_meta")]

BASE = datetime(2025, 10, 9, 8, 53, 20, tzinfo=UTC)


@pytest.fixture
def account(fake_meta):
    fake_meta.get(
        f"https://graph.instagram.com/v24.0/{CUSTOMER}",
        json={"name": "Jane Doe", "username": "jane.doe"},
    )
    return AccountFactory(ig_id=IG_ID)


def test_a_text_message_creates_the_conversation_and_the_message(deliver, account):
    assert deliver(webhook_fixture("message_text")).status_code == 200
    conversation = Conversation.objects.get()
    assert (conversation.account, conversation.customer_igsid) == (account, CUSTOMER)
    message = conversation.messages.get()
    assert message.mid == TEXT_MID
    assert message.text == "Hi! Is the blue jacket still available?"
    assert (message.direction, message.origin, message.kind) == ("in", "customer", "text")
    assert message.timestamp == BASE
    assert conversation.last_customer_message_at == BASE
    assert conversation.last_message_preview == "Hi! Is the blue jacket still available?"
    assert conversation.last_inbound_received_at is not None
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED


def test_every_attachment_type_is_kept(deliver, account):
    deliver(webhook_fixture("message_attachments"))
    messages = list(Message.objects.order_by("timestamp"))
    assert len(messages) == 11
    first = messages[0]
    assert first.kind == Message.Kind.ATTACHMENT
    assert [a["type"] for a in first.attachments] == ["image", "image", "video"]
    assert all(a["url"].startswith("https://lookaside.fbsbx.com/") for a in first.attachments)
    kinds = [m.attachments[0]["type"] for m in messages[1:]]
    assert kinds == [
        "audio",
        "file",
        "share",
        "story_mention",
        "ig_reel",
        "reel",
        "ig_post",
        "ig_story",
        "ephemeral",
        "hologram",
    ]
    reel = messages[5].attachments[0]
    assert reel == {
        "type": "ig_reel",
        "url": reel["url"],
        "title": "Spring collection",
        "reel_video_id": "18000000000000007",
    }
    assert messages[-1].attachments[0]["depth"] == 3  # an unknown type keeps its fields
    assert Conversation.objects.get().last_message_preview == "[Attachment]"


def test_replies_story_replies_quick_replies_and_referrals_are_kept(deliver, account):
    for name in ("message_reply", "message_story_reply", "message_quick_reply", "message_referral"):
        deliver(webhook_fixture(name))
    reply, story, quick, referral = Message.objects.order_by("timestamp")
    assert reply.reply_to_mid == TEXT_MID
    assert story.reply_to_story_id == "18000000000000021"
    assert story.reply_to_story_url.startswith("https://lookaside.fbsbx.com/")
    assert quick.quick_reply_payload == "TRACK_ORDER"
    assert referral.details["referral"]["ad_id"] == "120200000000000001"
    assert referral.text == "I saw your ad"


def test_an_unsupported_message_is_shown_as_such(deliver, account):
    deliver(webhook_fixture("message_unsupported"))
    message = Message.objects.get()
    assert message.kind == Message.Kind.UNSUPPORTED
    assert Conversation.objects.get().last_message_preview == "[Unsupported message]"


def test_a_standby_message_is_stored_like_any_other(deliver, account):
    deliver(webhook_fixture("standby"))
    assert Message.objects.get().text == "Hello from standby"


def test_a_sticker_is_a_sticker(deliver, account):
    item = message_item("m-heart", attachments=[{"type": "like_heart"}])
    deliver(webhook_body(item))
    assert Message.objects.get().kind == Message.Kind.STICKER


def test_a_redelivery_with_different_bytes_yields_one_message(deliver, account):
    body = webhook_fixture("message_text")
    deliver(body)
    body["entry"][0]["time"] += 5000  # Meta's retry of the same update, new batch time
    deliver(body)
    assert WebhookEvent.objects.count() == 2
    assert Message.objects.count() == 1
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"processed"}


def test_the_same_message_in_messaging_and_standby_is_stored_once(deliver, account):
    item = message_item("m-twice", "hello")
    deliver(webhook_body(item))
    deliver(webhook_body(item, source="standby"))
    assert Message.objects.count() == 1


def test_out_of_order_messages_keep_meta_order_and_the_newest_clock(deliver, account):
    newer = message_item("m-2", "second", ts=BASE_MS + 60_000)
    older = message_item("m-1", "first", ts=BASE_MS)
    deliver(webhook_body(newer))
    deliver(webhook_body(older))
    conversation = Conversation.objects.get()
    assert [m.text for m in conversation.messages.all()] == ["first", "second"]
    assert conversation.last_customer_message_at == BASE + timedelta(minutes=1)
    assert conversation.last_message_preview == "second"


def test_a_batch_is_applied_in_timestamp_order(deliver, account):
    deliver(
        webhook_body(
            message_item("m-b", "later", ts=BASE_MS + 2000),
            message_item("m-a", "earlier", ts=BASE_MS + 1000),
        )
    )
    assert Conversation.objects.get().last_message_preview == "later"


def test_a_new_customer_message_reopens_a_closed_conversation(deliver, account):
    deliver(webhook_body(message_item("m-1", "first")))
    Conversation.objects.update(status=Conversation.Status.CLOSED)
    deliver(webhook_body(message_item("m-2", "again", ts=BASE_MS + 1000)))
    assert Conversation.objects.get().status == Conversation.Status.OPEN


def test_each_customer_gets_one_conversation_per_account(deliver, account):
    other_account = AccountFactory(ig_id="17841400000000009")
    deliver(webhook_body(message_item("m-1", "a")))
    deliver(webhook_body(message_item("m-2", "b", sender="111")))
    deliver(
        webhook_body(
            message_item("m-3", "c", recipient=other_account.ig_id),
            ig_id=other_account.ig_id,
        )
    )
    deliver(webhook_body(message_item("m-4", "d", ts=BASE_MS + 1)))
    assert Conversation.objects.count() == 3
    assert Conversation.objects.get(account=account, customer_igsid=CUSTOMER).messages.count() == 2


def test_a_message_with_a_long_or_odd_content_is_stored_safely(deliver, account):
    text = "x" * 5000 + "\u0000 😀 <script>alert(1)</script>"
    deliver(webhook_body(message_item("m-odd", text, reply_to={"story": {"url": "u" * 3000}})))
    message = Message.objects.get()
    assert message.text.startswith("xxx")
    assert "\x00" not in message.text
    assert len(message.reply_to_story_url) == 2000
