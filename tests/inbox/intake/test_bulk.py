"""A drained group of plain customer messages is stored together, with the result that working
its events one at a time gives; anything else in the group still goes one at a time."""

from datetime import UTC, datetime, timedelta

import pytest

from inbox.intake import bulk as intake_bulk
from inbox.intake import drain as intake_drain
from inbox.intake.drain import webhook_events_drain
from inbox.models import Conversation, Message, WebhookEvent
from team.models import ActivityEvent
from tests.factories import AccountFactory, ConversationFactory
from tests.webhooks import (
    BASE_MS,
    IG_ID,
    OTHER_IG_ID,
    echo_item,
    event_item,
    message_item,
    stored_event,
    webhook_body,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_meta")]

State = WebhookEvent.State
ALICE, BOB, CAROL = "7000000000000001", "7000000000000002", "7000000000000003"
CLOSED_AT = datetime(2025, 10, 1, tzinfo=UTC)


def at(offset_ms):
    """The fixtures' clock, `offset_ms` later."""
    return datetime.fromtimestamp(BASE_MS / 1000, tz=UTC) + timedelta(milliseconds=offset_ms)


def burst(ig_id):
    """Every shape of customer message, out of order, with a redelivered mid, an event of
    two items, and a customer whose conversation was closed."""

    def item(mid, customer, ts, **message):
        return message_item(f"{ig_id}-{mid}", sender=customer, recipient=ig_id, ts=ts, **message)

    image = {"type": "image", "payload": {"url": "https://lookaside.fbsbx.com/ig/a.jpg"}}
    share = {"type": "ig_reel", "payload": {"url": "https://x/reel", "reel_video_id": "55"}}
    bodies = [
        [item("hello", ALICE, BASE_MS + 1000, text="Hello")],
        [item("photo", ALICE, BASE_MS + 3000, attachments=[image])],
        [
            item(
                "story",
                ALICE,
                BASE_MS + 2000,
                text="Nice story",
                reply_to={"story": {"url": "https://x/story", "id": "999"}},
            )
        ],
        [item("reel", BOB, BASE_MS + 500, attachments=[share])],
        [
            item("quick", BOB, BASE_MS + 600, text="Yes", quick_reply={"payload": "YES"}),
            item("again", BOB, BASE_MS + 700, text="Still there?", reply_to={"mid": "x"}),
        ],
        [item("dup", CAROL, BASE_MS + 4000, text="Back again")],
        [item("dup", CAROL, BASE_MS + 4000, text="Back again"), item("x", CAROL, BASE_MS + 10)],
        [item("heart", CAROL, BASE_MS + 3500, attachments=[{"type": "like_heart"}])],
    ]
    return [stored_event(webhook_body(*items, ig_id=ig_id)) for items in bodies]


def outcome(account):
    messages = [
        (
            m.mid.split("-", 1)[1],
            m.conversation.customer_igsid,
            m.kind,
            m.text,
            m.attachments,
            m.reply_to_mid,
            m.reply_to_story_url,
            m.reply_to_story_id,
            m.quick_reply_payload,
            m.details,
            m.timestamp,
            m.direction,
            m.origin,
            m.status,
        )
        for m in Message.objects.filter(account=account).select_related("conversation")
    ]
    conversations = [
        (
            c.customer_igsid,
            c.last_message_at,
            c.last_message_preview,
            c.last_customer_message_at,
            c.status,
            c.last_inbound_received_at is not None,
        )
        for c in Conversation.objects.filter(account=account).order_by("customer_igsid")
    ]
    activity = sorted(
        ActivityEvent.objects.filter(account=account).values_list(
            "conversation__customer_igsid", "kind", "actor", "detail"
        )
    )
    return sorted(messages), conversations, activity


def closed_conversation(account):
    return ConversationFactory(
        account=account,
        customer_igsid=CAROL,
        status=Conversation.Status.CLOSED,
        last_message_at=CLOSED_AT,
        last_customer_message_at=CLOSED_AT,
        last_message_preview="Old",
    )


def test_a_group_stores_what_one_event_at_a_time_would(monkeypatch):
    together, each = AccountFactory(ig_id=IG_ID), AccountFactory(ig_id=OTHER_IG_ID)
    closed_conversation(together), closed_conversation(each)
    calls = []
    real = intake_drain.webhook_events_store_messages
    monkeypatch.setattr(
        intake_drain,
        "webhook_events_store_messages",
        lambda **kwargs: calls.append(len(kwargs["events"])) or real(**kwargs),
    )

    events = burst(IG_ID)
    assert webhook_events_drain() == len(events)
    assert calls == [len(events)]

    monkeypatch.setattr(intake_drain, "messages_storable_together", lambda **kwargs: False)
    others = burst(OTHER_IG_ID)
    assert webhook_events_drain() == len(others)
    assert calls == [len(events)]

    assert outcome(together) == outcome(each)
    messages, conversations, activity = outcome(together)
    # The closed conversation's customer wrote: one line says so, however many messages.
    assert activity == [(CAROL, "reopened", None, "the customer wrote")]
    assert len(messages) == 9  # the redelivered mid once
    assert [c[1:5] for c in conversations] == [
        (at(3000), "[Photo]", at(3000), "open"),
        (at(700), "Still there?", at(700), "open"),
        (at(4000), "Back again", at(4000), "open"),
    ]
    assert set(WebhookEvent.objects.values_list("state", "attempts", "last_error")) == {
        (State.PROCESSED, 1, "")
    }


def test_a_message_stored_before_is_not_stored_again():
    account = AccountFactory(ig_id=IG_ID)
    first = stored_event(webhook_body(message_item("m-1", "hi", sender=ALICE)))
    webhook_events_drain()
    # Meta redelivers it in another batch (other bytes), with a new one.
    again = stored_event(webhook_body(message_item("m-1", "hi", sender=ALICE), message_item("m-2")))
    later = stored_event(webhook_body(message_item("m-3", "more", sender=BOB)))
    assert webhook_events_drain() == 2
    assert sorted(Message.objects.filter(account=account).values_list("mid", flat=True)) == [
        "m-1",
        "m-2",
        "m-3",
    ]
    assert {
        e.state for e in WebhookEvent.objects.filter(pk__in=[first.pk, again.pk, later.pk])
    } == {State.PROCESSED}


def test_a_conflict_with_another_worker_falls_back_to_one_event_at_a_time(monkeypatch, caplog):
    AccountFactory(ig_id=IG_ID)
    events = [
        stored_event(webhook_body(message_item(f"m-{n}", "x", sender=ALICE))) for n in range(3)
    ]
    real = intake_bulk.Message.objects.bulk_create

    def racing(messages):
        # Another worker stores the first message between our look-up and our insert (here
        # in our own transaction, so the rollback takes it away too).
        first = messages[0]
        Message.objects.create(
            account=first.account,
            conversation=first.conversation,
            mid=first.mid,
            direction=first.direction,
            origin=first.origin,
            status=first.status,
            timestamp=first.timestamp,
        )
        return real(messages)

    monkeypatch.setattr(intake_bulk.Message.objects, "bulk_create", racing)
    caplog.set_level("INFO", logger="inbox.intake.drain")
    assert webhook_events_drain() == 3
    assert "group of 3 worked one at a time: IntegrityError" in caplog.text
    assert Message.objects.count() == 3
    assert {WebhookEvent.objects.get(pk=e.pk).state for e in events} == {State.PROCESSED}


def test_other_items_in_the_group_go_one_at_a_time_after_the_messages():
    AccountFactory(ig_id=IG_ID)
    plain = [
        stored_event(webhook_body(message_item(f"m-{n}", "x", sender=ALICE))) for n in range(2)
    ]
    # A reaction to a message of the same group, drained with it: its target is there.
    reaction = stored_event(
        webhook_body(
            event_item(
                "reaction", {"mid": "m-1", "action": "react", "reaction": "love"}, sender=ALICE
            )
        )
    )
    echo = stored_event(webhook_body(echo_item("e-1", "From the app")))
    elsewhere = stored_event(webhook_body(message_item("m-9", "hi"), ig_id=OTHER_IG_ID))
    assert webhook_events_drain() == 5
    states = {e.pk: WebhookEvent.objects.get(pk=e.pk).state for e in [*plain, reaction, echo]}
    assert set(states.values()) == {State.PROCESSED}
    assert Message.objects.get(mid="m-1").reactions.get().reaction == "love"
    assert Message.objects.get(mid="e-1").origin == Message.Origin.BUSINESS_APP
    assert WebhookEvent.objects.get(pk=elsewhere.pk).state == State.WAITING_ACCOUNT


def test_new_conversations_of_a_group_get_their_profile_fetched(
    django_capture_on_commit_callbacks, monkeypatch
):
    AccountFactory(ig_id=IG_ID)
    fetched = []
    monkeypatch.setattr(
        "inbox.tasks.conversation_profile_fetch",
        lambda *, conversation_id: fetched.append(conversation_id),
    )
    for n, customer in enumerate([ALICE, BOB, ALICE]):
        stored_event(webhook_body(message_item(f"m-{n}", "x", sender=customer)))
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_events_drain() == 3
    assert sorted(fetched) == sorted(Conversation.objects.values_list("pk", flat=True))
