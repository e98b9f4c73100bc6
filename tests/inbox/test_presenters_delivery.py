"""What the pages say about delivery: why a reply waits, a failed last reply on its row, and
Meta's window refusal against our clock."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from inbox.outbound.errors import WAITING_FOR_RECONNECT, WAITING_FOR_SLOT
from inbox.presenters_delivery import (
    reply_problem_label,
    reply_wait_present,
    window_contradiction_present,
)
from tests.factories import ConversationFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def queued(conversation, **fields):
    return MessageFactory(
        conversation=conversation, direction="out", origin="agent", status="queued", **fields
    )


@pytest.fixture
def conversation():
    return ConversationFactory(last_customer_message_at=NOW - timedelta(hours=1))


def test_it_says_why_a_rate_limited_reply_waits_and_when_it_is_tried_next(conversation):
    message = queued(
        conversation,
        error_reason="Instagram asked us to slow down (429); retrying automatically.",
        next_attempt_at=NOW + timedelta(minutes=3, seconds=5),
    )
    assert reply_wait_present(message, NOW) == (
        "Instagram asked us to slow down (429). Next try at 14:03:05."
    )


def test_it_says_a_reply_waits_for_the_reconnect(conversation):
    message = queued(conversation, error_reason=WAITING_FOR_RECONNECT)
    assert reply_wait_present(message, NOW) == WAITING_FOR_RECONNECT


def test_a_reply_waiting_for_its_slot_says_so(conversation):
    message = queued(conversation, next_attempt_at=NOW + timedelta(seconds=20))
    assert reply_wait_present(message, NOW) == f"{WAITING_FOR_SLOT} Next try at 14:00:20."


def test_a_reply_simply_on_its_way_says_nothing(conversation):
    assert reply_wait_present(queued(conversation), NOW) == ""
    sent = MessageFactory(conversation=conversation, direction="out", origin="agent", status="sent")
    assert reply_wait_present(sent, NOW) == ""


@pytest.mark.parametrize(
    ("status", "label"),
    [("failed", "Not delivered"), ("unknown", "Delivery unknown"), ("sent", ""), (None, "")],
)
def test_it_names_a_last_reply_problem(status, label):
    assert reply_problem_label(status) == label


def test_meta_refusing_the_window_while_ours_is_open_is_said(conversation):
    refused = MessageFactory(
        conversation=conversation,
        direction="out",
        origin="agent",
        status="failed",
        error_code="10/2534022",
        timestamp=NOW - timedelta(minutes=5),
    )
    with time_machine.travel(NOW, tick=False):
        said = window_contradiction_present(
            conversation=conversation, messages=[refused], window_open=True
        )
    assert "Instagram refused a reply as outside its reply window" in said
    assert "02 Nov, 13:00" in said
    # Our clock agrees (the window ended), or the customer wrote since: nothing to say.
    assert not window_contradiction_present(
        conversation=conversation, messages=[refused], window_open=False
    )
    conversation.last_customer_message_at = NOW
    assert not window_contradiction_present(
        conversation=conversation, messages=[refused], window_open=True
    )


def test_a_reply_meta_took_after_the_refusal_settles_it(conversation):
    refused = MessageFactory(
        conversation=conversation,
        direction="out",
        origin="agent",
        status="failed",
        error_code="10/2534022",
        timestamp=NOW - timedelta(minutes=5),
    )
    taken = MessageFactory(
        conversation=conversation,
        direction="out",
        origin="agent",
        status="sent",
        timestamp=NOW - timedelta(minutes=6),
        sent_at=refused.updated_at + timedelta(seconds=30),
    )
    assert not window_contradiction_present(
        conversation=conversation, messages=[taken, refused], window_open=True
    )
    taken.sent_at = refused.updated_at - timedelta(seconds=30)  # taken before the refusal
    assert window_contradiction_present(
        conversation=conversation, messages=[taken, refused], window_open=True
    )


def test_the_list_row_says_the_last_reply_failed(client, conversation):
    agent = UserFactory(username="alice")
    conversation.account.members.add(agent)
    MessageFactory(conversation=conversation, direction="out", origin="agent", status="failed")
    client.force_login(agent)
    html = client.get("/").content.decode()
    assert "! Not delivered" in html
    MessageFactory(conversation=conversation, direction="out", origin="agent", status="sent")
    assert "Not delivered" not in client.get("/").content.decode()
