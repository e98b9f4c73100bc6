"""A webhook and the history sync storing the same message at the same moment, on
PostgreSQL: real threads, each on its own connection and transactions. The database's
uniqueness decides: one row, and neither side fails."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from inbox.history.store import history_conversation_store
from inbox.intake.process import webhook_event_process
from inbox.models import Conversation, Message
from instagram.answers import ConversationDetail, HistoryMessage, Participant
from tests.factories import AccountFactory
from tests.webhooks import IG_ID, message_item, stored_event, webhook_body

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("fake_meta")]

ROUNDS = 6


def at_once(*works):
    """Each callable in its own thread, released together; what each returned, in order."""
    barrier = threading.Barrier(len(works))
    results: list[object] = [None] * len(works)
    errors: list[BaseException] = []

    def run(index, work):
        try:
            barrier.wait(timeout=10)
            results[index] = work()
        except BaseException as e:  # surfaced by the assertion below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, w)) for n, w in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


def history_of(customer: str, mid: str, text: str, moment: datetime):
    detail = ConversationDetail(
        id=f"conv-{customer}",
        participants=(Participant(id=IG_ID, username="shop"), Participant(customer, "cus")),
        messages=(),
    )
    message = HistoryMessage(
        mid=mid, created_time=moment, from_id=customer, to_ids=(IG_ID,), text=text, attachments=()
    )
    return detail, [message]


@pytest.mark.django_db(transaction=True)
def test_a_webhook_and_the_sync_storing_one_message_at_once_store_it_once():
    account = AccountFactory(ig_id=IG_ID, username="shop")
    moment = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    for n in range(ROUNDS):
        # A new customer each round: the conversation's first row is raced for as well.
        customer, mid, text = f"65432109876{n:05d}", f"m-race-{n}", f"only once {n}"
        ts = int(moment.timestamp() * 1000)
        event = stored_event(webhook_body(message_item(mid, text, ts=ts, sender=customer)))
        detail, messages = history_of(customer, mid, text, moment)

        webhook, stored = at_once(
            lambda event=event: webhook_event_process(event_id=event.pk),
            lambda d=detail, m=messages: history_conversation_store(
                account=account, detail=d, messages=m
            ),
        )

        assert webhook == "processed"
        assert stored in (0, 1)  # whichever came first stored it
        row = Message.objects.get(mid=mid)  # exactly one
        assert row.imported == (stored == 1)
        assert row.text == text
        assert row.timestamp == moment.astimezone(UTC)
        conversation = Conversation.objects.get(account=account, customer_igsid=customer)
        assert conversation.messages.count() == 1
        assert conversation.last_message_preview == text
    assert Message.objects.count() == ROUNDS
    assert Conversation.objects.count() == ROUNDS
