"""Unsends, edits, reactions, read receipts, postbacks, referrals and opt-ins."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from inbox.intake.sweep import webhook_events_sweep
from inbox.models import Conversation, Message, Reaction, WebhookEvent
from tests.factories import AccountFactory, ConversationFactory, OutboundMessageFactory
from tests.webhooks import (
    BASE_MS,
    CUSTOMER,
    ECHO_MID,
    IG_ID,
    TEXT_MID,
    event_item,
    message_item,
    webhook_body,
    webhook_fixture,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_meta")]

BASE = datetime(2025, 10, 9, 8, 53, 20, tzinfo=UTC)


@pytest.fixture
def account():
    return AccountFactory(ig_id=IG_ID)


@pytest.fixture
def received(deliver, account):
    """The customer's text message, already in the inbox."""
    deliver(webhook_fixture("message_text"))
    return Message.objects.get(mid=TEXT_MID)


def event_state():
    return WebhookEvent.objects.order_by("-id").first()


# --- unsend ----------------------------------------------------------------------------
def test_an_unsend_removes_the_content_and_keeps_a_tombstone(deliver, received):
    Message.objects.filter(pk=received.pk).update(
        attachments=[{"type": "image", "url": "https://cdn.example/x.jpg"}]
    )
    deliver(webhook_fixture("message_deleted"))
    received.refresh_from_db()
    assert received.is_deleted
    assert (received.text, received.attachments) == ("", [])
    assert Conversation.objects.get().last_message_preview == "Message unsent"


def test_an_unsend_redelivered_changes_nothing_more(deliver, received):
    deliver(webhook_fixture("message_deleted"))
    body = webhook_fixture("message_deleted")
    body["entry"][0]["time"] += 1
    deliver(body)
    assert Message.objects.filter(is_deleted=True).count() == 1


def test_an_unsend_before_its_message_is_applied_once_the_message_arrives(
    deliver, account, time_machine
):
    time_machine.move_to(timezone.now())
    deliver(webhook_fixture("message_deleted"))
    assert event_state().state == WebhookEvent.State.PENDING
    deliver(webhook_fixture("message_text"))
    time_machine.shift(timedelta(seconds=20))
    assert webhook_events_sweep()  # the unsend is retried
    assert Message.objects.get().is_deleted


# --- edits -----------------------------------------------------------------------------
def test_an_edit_without_sender_updates_the_text_found_by_mid(deliver, received):
    deliver(webhook_fixture("message_edit"))
    received.refresh_from_db()
    assert received.text == "Hi! Is the blue jacket still available in M?"
    assert received.edit_count == 1
    assert received.is_edited
    assert "in M?" in Conversation.objects.get().last_message_preview


def test_an_older_edit_arriving_late_does_not_win(deliver, received):
    newer = webhook_fixture("message_edit")
    newer["entry"][0]["messaging"][0]["message_edit"].update(text="third version", num_edit=2)
    deliver(newer)
    deliver(webhook_fixture("message_edit"))
    received.refresh_from_db()
    assert (received.text, received.edit_count) == ("third version", 2)


def test_an_edit_numbered_zero_for_an_unknown_mid_is_a_new_message_notice(deliver, account):
    body = webhook_body({"timestamp": BASE_MS, "message_edit": {"mid": "new", "num_edit": 0}})
    deliver(body)
    assert event_state().state == WebhookEvent.State.PROCESSED
    assert not Message.objects.exists()


def test_an_edit_before_its_message_is_retried_then_applied(deliver, account, time_machine):
    time_machine.move_to(timezone.now())
    deliver(webhook_fixture("message_edit"))
    edit_event = event_state()
    assert edit_event.state == WebhookEvent.State.PENDING
    assert "edited" in edit_event.last_error
    deliver(webhook_fixture("message_text"))
    time_machine.shift(timedelta(seconds=20))
    webhook_events_sweep()
    edit_event.refresh_from_db()
    assert edit_event.state == WebhookEvent.State.PROCESSED
    assert Message.objects.get().edit_count == 1


def test_an_edit_of_an_unsent_message_does_not_bring_text_back(deliver, received):
    deliver(webhook_fixture("message_deleted"))
    deliver(webhook_fixture("message_edit"))
    received.refresh_from_db()
    assert received.is_deleted
    assert received.text == ""


# --- reactions -------------------------------------------------------------------------
def test_a_reaction_attaches_to_the_message_and_unreact_removes_it(deliver, received):
    deliver(webhook_fixture("reaction_react"))
    reaction = Reaction.objects.get()
    assert (reaction.message, reaction.actor) == (received, Reaction.Actor.CUSTOMER)
    assert (reaction.reaction, reaction.emoji) == ("love", "❤️")
    assert reaction.reacted_at == BASE + timedelta(milliseconds=60)
    deliver(webhook_fixture("reaction_unreact"))
    assert not Reaction.objects.exists()


def test_a_changed_reaction_replaces_the_previous_one(deliver, received):
    deliver(webhook_fixture("reaction_react"))
    later = event_item(
        "reaction", {"mid": TEXT_MID, "reaction": "laugh", "emoji": "😂"}, ts=BASE_MS + 65
    )
    deliver(webhook_body(later))
    assert Reaction.objects.get().emoji == "😂"


def test_an_older_reaction_arriving_late_does_not_win(deliver, received):
    later = event_item(
        "reaction", {"mid": TEXT_MID, "reaction": "laugh", "emoji": "😂"}, ts=BASE_MS + 65
    )
    deliver(webhook_body(later))
    deliver(webhook_fixture("reaction_react"))  # at +60
    assert Reaction.objects.get().emoji == "😂"


def test_a_redelivered_reaction_is_stored_once(deliver, received):
    deliver(webhook_fixture("reaction_react"))
    body = webhook_fixture("reaction_react")
    body["entry"][0]["time"] += 1
    deliver(body)
    assert Reaction.objects.count() == 1


def test_a_reaction_before_its_message_is_retried_not_dropped(deliver, account, time_machine):
    time_machine.move_to(timezone.now())
    deliver(webhook_fixture("reaction_react"))
    assert event_state().state == WebhookEvent.State.PENDING
    assert not Reaction.objects.exists()
    deliver(webhook_fixture("message_text"))
    time_machine.shift(timedelta(seconds=10))
    assert webhook_events_sweep() == []  # backoff: not yet
    time_machine.shift(timedelta(seconds=10))
    webhook_events_sweep()
    assert Reaction.objects.get().emoji == "❤️"


def test_a_reaction_to_a_message_we_never_had_is_given_up_with_a_note(
    deliver, account, time_machine
):
    time_machine.move_to(timezone.now())
    deliver(webhook_fixture("reaction_react"))
    for _ in range(8):
        time_machine.shift(timedelta(hours=2))
        webhook_events_sweep()
    event = event_state()
    assert event.state == WebhookEvent.State.PROCESSED
    assert event.last_error.startswith("gave up waiting for message")


# --- read receipts ---------------------------------------------------------------------
def test_a_read_marks_our_messages_up_to_the_one_read_as_seen(deliver, account):
    conversation = ConversationFactory(account=account, customer_igsid=CUSTOMER)
    read_mid_time = BASE + timedelta(seconds=30)
    before = OutboundMessageFactory(
        conversation=conversation, mid="m-before", status="sent", timestamp=BASE
    )
    read = OutboundMessageFactory(
        conversation=conversation, mid=ECHO_MID, status="sent", timestamp=read_mid_time
    )
    after = OutboundMessageFactory(
        conversation=conversation,
        mid="m-after",
        status="sent",
        timestamp=read_mid_time + timedelta(seconds=1),
    )
    failed = OutboundMessageFactory(conversation=conversation, status="failed", timestamp=BASE)
    deliver(webhook_fixture("read"))
    for message in (before, read, after, failed):
        message.refresh_from_db()
    assert (before.status, read.status) == ("seen", "seen")
    assert read.seen_at == BASE + timedelta(milliseconds=80)
    assert (after.status, failed.status) == ("sent", "failed")


def test_a_read_of_an_unknown_mid_uses_the_read_time(deliver, account):
    conversation = ConversationFactory(account=account, customer_igsid=CUSTOMER)
    sent = OutboundMessageFactory(conversation=conversation, status="sent", timestamp=BASE)
    deliver(webhook_body(event_item("read", {"mid": "unknown"}, ts=BASE_MS + 1000)))
    sent.refresh_from_db()
    assert sent.status == Message.Status.SEEN


def test_a_read_from_a_stranger_changes_nothing(deliver, account):
    deliver(webhook_fixture("read"))
    assert event_state().state == WebhookEvent.State.PROCESSED
    assert not Conversation.objects.exists()


# --- postbacks, referrals, opt-ins -----------------------------------------------------
def test_a_postback_is_recorded_in_the_conversation(deliver, account):
    deliver(webhook_fixture("postback"))
    message = Message.objects.get()
    assert message.kind == Message.Kind.POSTBACK
    assert message.text == "Talk to a human"
    assert message.details == {"title": "Talk to a human", "payload": "HUMAN_AGENT"}
    assert message.direction == Message.Direction.INBOUND


@pytest.mark.parametrize(("name", "kind"), [("referral", "referral"), ("optin", "optin")])
def test_referrals_and_optins_are_recorded_once(deliver, account, name, kind):
    deliver(webhook_fixture(name))
    body = webhook_fixture(name)
    body["entry"][0]["time"] += 1
    deliver(body)
    message = Message.objects.get()
    assert message.kind == kind
    assert message.mid.startswith(f"{kind}:")
    assert message.details
    conversation = Conversation.objects.get()
    assert conversation.last_message_preview.startswith(("Opened the chat", "Opted in"))
    assert conversation.last_customer_message_at == message.timestamp


def test_a_postback_without_mid_is_recorded_once(deliver, account):
    item = event_item("postback", {"title": "Yes", "payload": "YES"})
    deliver(webhook_body(item))
    deliver(webhook_body(item, source="standby"))
    assert Message.objects.get().mid.startswith("postback:")


def test_a_message_referral_is_kept_in_details(deliver, account):
    item = message_item("m-ref", "hi", referral={"ref": "bio_link", "source": "IGME"})
    deliver(webhook_body(item))
    assert Message.objects.get().details == {"referral": {"ref": "bio_link", "source": "IGME"}}
