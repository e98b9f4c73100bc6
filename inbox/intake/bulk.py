"""Storing a group of customer messages together: a burst's common case, in a few statements.

A drained group of events whose every item is a new message from a customer (text,
attachments, stickers, shares, story replies...) is stored in one transaction: one look-up of
the conversations and one insert of the missing ones, one look-up of the mids already stored,
one insert of the messages, one summary UPDATE per conversation, and the settling of the
events. Worked one item at a time, each message costs about seven statements and a commit.

The result is the one `apply` gives item by item (both take a message's columns from
`fields`); every other kind of item (echoes, reactions, reads, edits, unsends, postbacks) and
every event for an account we do not have goes that way. If the group meets anything
unexpected, such as another worker storing one of its conversations or messages first,
nothing of it is kept and the caller works its events one at a time, which handles every
such case.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from accounts.models import InstagramAccount
from inbox.models import Conversation, Message, WebhookEvent
from inbox.services.assignment import conversation_auto_assign_if_new
from inbox.services.control import conversation_control_note
from inbox.services.conversations import conversations_record_messages
from inbox.services.profiles import conversation_profile_queue_if_stale
from inbox.services.work import conversation_customer_returned
from instagram.events import MessageEvent, WebhookBatch

from .fields import customer_id_usable, inbound_fields, message_fields
from .rows import webhook_events_settle_processed

Key = tuple[int, str]  # (account id, customer IGSID): a conversation


def messages_storable_together(
    *, batch: WebhookBatch | None, accounts: dict[str, InstagramAccount]
) -> bool:
    """True when every item of this event is a customer's new message to a known account."""
    if batch is None or not batch.events:
        return False
    return all(
        type(item) is MessageEvent
        and not item.is_deleted
        and not item.outbound
        and item.mid
        and item.account_id in accounts
        and customer_id_usable(item.customer_id)
        for item in batch.events
    )


def webhook_events_store_messages(
    *,
    events: Sequence[tuple[WebhookEvent, WebhookBatch]],
    accounts: dict[str, InstagramAccount],
) -> None:
    """Store the messages of these claimed events (each passed `messages_storable_together`)
    and settle the events as processed, all or nothing. Raises whatever the database raises
    (a unique constraint broken by a concurrent worker, say): then nothing was stored."""
    items = [
        (accounts[item.account_id], item)
        for _, batch in events
        for item in batch.events
        if isinstance(item, MessageEvent)
    ]
    accounts_by_pk = {account.pk: account for account, _ in items}
    with transaction.atomic():
        conversations = _conversations(
            {(account.pk, item.customer_id): account for account, item in items}
        )
        messages = _new_messages(items, conversations)
        Message.objects.bulk_create(messages)
        newest: dict[int, Message] = {}
        for message in messages:
            known = newest.get(message.conversation_id)
            if known is None or message.timestamp >= known.timestamp:
                newest[message.conversation_id] = message
        # The newest message alone moves the summary as all of them would, one by one: every
        # column it sets keeps the newest value (and these are all customer messages). In
        # the conversations' order, so that two workers' groups never wait on each other in
        # a circle.
        conversations_record_messages(messages=[newest[pk] for pk in sorted(newest)])
        for conversation, created in conversations.values():
            if conversation.pk in newest:
                latest = newest[conversation.pk]
                conversation_control_note(
                    conversation=conversation, at=latest.timestamp, standby=latest.via_standby
                )
                conversation_profile_queue_if_stale(conversation=conversation, created=created)
                conversation_auto_assign_if_new(
                    account=accounts_by_pk[conversation.account_id],
                    conversation=conversation,
                    message=latest,
                    created=created,
                )
                conversation_customer_returned(
                    conversation=conversation, message=latest, created=created
                )
        webhook_events_settle_processed(event_ids=[event.pk for event, _ in events])


def _conversations(
    wanted: dict[Key, InstagramAccount],
) -> dict[Key, tuple[Conversation, bool]]:
    """Each (account, customer)'s conversation, and whether it was created now."""
    found: dict[Key, tuple[Conversation, bool]] = {}
    candidates = Conversation.objects.filter(
        account_id__in={account_id for account_id, _ in wanted},
        customer_igsid__in={igsid for _, igsid in wanted},
    ).only(
        "id",
        "account_id",
        "customer_igsid",
        "created_at",
        "profile_fetched_at",
        "other_app_since",
        "status",
        "snoozed_until",
    )
    for conversation in candidates:
        key = (conversation.account_id, conversation.customer_igsid)
        if key in wanted:
            found[key] = (conversation, False)
    missing = [
        Conversation(account=wanted[key], customer_igsid=key[1])
        for key in sorted(wanted)
        if key not in found
    ]
    for conversation in Conversation.objects.bulk_create(missing):
        found[(conversation.account_id, conversation.customer_igsid)] = (conversation, True)
    return found


def _new_messages(
    items: list[tuple[InstagramAccount, MessageEvent]],
    conversations: dict[Key, tuple[Conversation, bool]],
) -> list[Message]:
    """The messages not stored yet (a redelivery, or twice in this group, is stored once)."""
    messages = [
        Message(
            conversation=conversations[(account.pk, item.customer_id)][0],
            **inbound_fields(account=account, event=item, mid=item.mid),
            **message_fields(item),
        )
        for account, item in items
    ]
    stored = set(
        Message.objects.filter(
            account_id__in={message.account_id for message in messages},
            mid__in={message.mid for message in messages},
        ).values_list("account_id", "mid")
    )
    new: list[Message] = []
    for message in messages:
        key = (message.account_id, message.mid)
        if key not in stored:
            stored.add(key)
            new.append(message)
    return new
