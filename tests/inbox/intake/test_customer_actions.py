"""Button taps, ig.me links, click-to-DM ads and opt-ins count as the customer writing, and the
thread shows what the customer tapped or came from; odd ones are stored and shown as they are."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from inbox.models import Conversation, Message, WebhookEvent
from inbox.presenters import reply_state_present
from inbox.selectors import ListFilters, unread_count
from inbox.services.window import WindowState, conversation_reply_window
from tests.factories import AccountFactory, ConversationFactory
from tests.webhooks import CUSTOMER, IG_ID, echo_item, webhook_body, webhook_fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_meta")]

# Each case: its fixture, and the list's preview once it arrives.
CASES = [
    ("postback_ad_first_contact", "Tapped: Get started"),
    ("postback_ice_breaker", "Tapped: What are your opening hours?"),
    ("referral_igme_first_contact", "Opened the chat from a link (ref bio_link)"),
    ("message_referral", "I saw your ad"),
    ("optin", "Opted in: Weekly deals"),
]
NAMES = [name for name, _ in CASES]


@pytest.fixture
def account():
    return AccountFactory(ig_id=IG_ID)


def meta_time(name: str) -> datetime:
    """The item's `timestamp`, Meta's clock."""
    ms = webhook_fixture(name)["entry"][0]["messaging"][0]["timestamp"]
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def thread_page(client, user, conversation: Conversation) -> str:
    client.force_login(user)
    response = client.get(f"/c/{conversation.pk}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(("name", "preview"), CASES)
def test_it_counts_as_the_customer_writing(deliver, agent, name, preview):
    assert deliver(webhook_fixture(name)).status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.last_customer_message_at == meta_time(name)
    assert conversation.last_message_at == meta_time(name)
    assert conversation.last_message_preview == preview
    assert unread_count(user=agent, filters=ListFilters()) == 1


@pytest.mark.parametrize("name", NAMES)
def test_it_opens_the_reply_box_and_the_window_counts_from_meta_time(deliver, client, agent, name):
    deliver(webhook_fixture(name))
    conversation = Conversation.objects.get()
    with time_machine.travel(meta_time(name) + timedelta(hours=1), tick=False):
        assert reply_state_present(conversation=conversation).refusal == ""
        page = thread_page(client, agent, conversation)
        assert "has not written" not in page
        assert "<textarea" in page
    with time_machine.travel(meta_time(name) + timedelta(hours=25), tick=False):
        window = conversation_reply_window(conversation=conversation)
        assert window.state == WindowState.HUMAN_AGENT


@pytest.mark.parametrize("name", NAMES)
def test_it_reopens_a_closed_conversation(deliver, account, name):
    conversation = ConversationFactory(
        account=account, customer_igsid=CUSTOMER, status=Conversation.Status.CLOSED
    )
    deliver(webhook_fixture(name))
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.last_inbound_received_at is not None


def test_a_later_echo_moves_neither_the_window_nor_unread(deliver, agent):
    deliver(webhook_fixture("postback_ice_breaker"))
    before = Conversation.objects.get()
    later = int(meta_time("postback_ice_breaker").timestamp() * 1000) + 60_000
    deliver(webhook_body(echo_item("m-echo-after-tap", "We open at 9", ts=later)))
    after = Conversation.objects.get()
    assert after.last_customer_message_at == before.last_customer_message_at
    assert after.last_inbound_received_at == before.last_inbound_received_at
    assert after.last_message_preview == "You: We open at 9"


def test_a_redelivered_tap_is_stored_once(deliver, account):
    deliver(webhook_fixture("postback_ad_first_contact"))
    body = webhook_fixture("postback_ad_first_contact")
    body["entry"][0]["time"] += 1  # another batch, the same tap
    deliver(body)
    assert Message.objects.count() == 1


# --- what the thread shows ---------------------------------------------------------------
def test_an_ad_postback_shows_the_tap_its_payload_and_the_ad(deliver, client, agent):
    deliver(webhook_fixture("postback_ad_first_contact"))
    page = thread_page(client, agent, Conversation.objects.get())
    assert "Tapped: Get started" in page
    assert "<summary>Payload</summary><code>GET_STARTED</code>" in page
    assert page.count("Autumn coats, 20% off") == 2  # on the message and in the panel
    assert page.count("Ad ID <code>120200000000000200</code>") == 2
    assert 'src="https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=180000000000200' in page
    assert "No longer available on Instagram" in page


def test_an_ice_breaker_shows_its_question(deliver, client, agent):
    deliver(webhook_fixture("postback_ice_breaker"))
    page = thread_page(client, agent, Conversation.objects.get())
    assert "Tapped: What are your opening hours?" in page
    assert "ICE_BREAKER_HOURS" in page
    assert "ad-banner" not in page


def test_an_igme_referral_shows_its_source_and_ref(deliver, client, agent):
    deliver(webhook_fixture("referral_igme_first_contact"))
    page = thread_page(client, agent, Conversation.objects.get())
    assert "Opened the chat from a link (ref bio_link)" in page
    assert "· ig.me link" in page
    assert "ad-banner" not in page


def test_a_click_to_dm_ad_message_shows_the_ad_banner(deliver, client, agent):
    deliver(webhook_fixture("message_referral"))
    page = thread_page(client, agent, Conversation.objects.get())
    assert "I saw your ad" in page
    assert page.count("Summer sale") == 2
    assert page.count("Ad ID <code>120200000000000001</code>") == 2
    assert 'src="https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=180000000000023' in page


def test_an_optin_shows_what_was_opted_into(deliver, client, agent):
    deliver(webhook_fixture("optin"))
    page = thread_page(client, agent, Conversation.objects.get())
    assert "Opted in: Weekly deals" in page
    assert "weekly_deals" in page


# --- bad input ---------------------------------------------------------------------------
def test_an_odd_postback_is_stored_and_shown_as_it_came(deliver, client, agent):
    assert deliver(webhook_fixture("postback_odd_fields")).status_code == 200
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED
    message = Message.objects.get()
    assert message.kind == Message.Kind.POSTBACK
    assert message.details["title"] == "42"
    assert message.details["payload"] == '{"step": ["a", 1]}'
    conversation = Conversation.objects.get()
    assert conversation.last_message_preview == "Tapped: 42"
    page = thread_page(client, agent, conversation)
    assert "Tapped: 42" in page
    assert "{&quot;step&quot;: [&quot;a&quot;, 1]}" in page


def test_an_odd_referral_is_stored_and_shown_without_its_unsafe_photo(deliver, client, agent):
    assert deliver(webhook_fixture("referral_odd_fields")).status_code == 200
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED
    message = Message.objects.get()
    assert message.details["ad_id"] == 120200000000000240
    conversation = Conversation.objects.get()
    assert conversation.last_message_preview == "Came from an ad"
    assert conversation.last_customer_message_at is not None
    page = thread_page(client, agent, conversation)
    assert "Ad without a title" in page
    assert "120200000000000240" in page
    assert "javascript:" not in page
    assert "ad-photo" not in page


def test_a_postback_without_anything_is_a_tap_still(deliver, client, agent):
    body = webhook_fixture("postback_ice_breaker")
    body["entry"][0]["messaging"][0]["postback"] = {}
    assert deliver(body).status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.last_message_preview == "Tapped a button"
    assert "Tapped a button" in thread_page(client, agent, conversation)


# --- admin -------------------------------------------------------------------------------
def test_a_manager_sees_the_tap_and_the_ad_in_admin(deliver, client, account, manager):
    deliver(webhook_fixture("postback_ad_first_contact"))
    client.force_login(manager)
    message = Message.objects.get()
    page = client.get(f"/admin/inbox/message/{message.pk}/change/").content.decode()
    assert "Tapped: Get started" in page
    assert "GET_STARTED" in page
    assert "Ad “Autumn coats, 20% off” · ad ID 120200000000000200" in page
    conversation = message.conversation
    page = client.get(f"/admin/inbox/conversation/{conversation.pk}/change/").content.decode()
    assert "came from ad" in page.lower()
    assert "Ad “Autumn coats, 20% off” · ad ID 120200000000000200" in page
