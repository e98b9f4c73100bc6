"""Keeping a conversation's summary (list order, preview, reply-window clock) in step."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby
from typing import Any

from django.db import transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone

from inbox.models import Conversation, Message
from inbox.services.live import live_touch_many, live_touch_message

ATTACHMENT_LABELS = {
    "image": "Photo",
    "video": "Video",
    "audio": "Voice message",
    "file": "File",
    "share": "Shared post",
    "ig_post": "Shared post",
    "story_mention": "Mentioned you in their story",
    "ig_story": "Shared a story",
    "ig_reel": "Shared a reel",
    "reel": "Shared a reel",
    "ephemeral": "Disappearing photo or video",
    "like_heart": "❤️",
}


def message_preview(message: Message) -> str:
    """One line for the conversation list."""
    if message.is_deleted:
        text = "Message unsent"
    elif message.kind in ACTION_KINDS:
        text = customer_action_label(message)
    elif message.text:
        text = message.text
    elif message.kind == Message.Kind.STICKER:
        text = "❤️"
    elif message.attachments:
        kind = str(message.attachments[0].get("type", ""))
        text = f"[{ATTACHMENT_LABELS.get(kind, 'Attachment')}]"
    elif message.kind == Message.Kind.UNSUPPORTED:
        text = "[Unsupported message]"
    else:
        text = f"[{message.get_kind_display()}]"
    prefix = "You: " if message.direction == Message.Direction.OUTBOUND else ""
    return (prefix + " ".join(text.split()))[:255]


# What the customer did rather than wrote: a button tapped, a link or an ad followed, an opt-in.
ACTION_KINDS = frozenset({Message.Kind.POSTBACK, Message.Kind.REFERRAL, Message.Kind.OPTIN})
# A customer's message or action opens (or keeps open) Meta's reply window, marks the
# conversation unread and reopens it: Meta's policy counts a tapped button, a followed ig.me
# link or ad and an opt-in as the customer reaching out (docs/meta.md). Echoes and our own
# sends are outbound and never do.
WINDOW_KINDS = frozenset(
    {Message.Kind.TEXT, Message.Kind.ATTACHMENT, Message.Kind.STICKER, Message.Kind.UNSUPPORTED}
    | ACTION_KINDS
)


def customer_action_label(message: Message) -> str:
    """A postback, referral or opt-in in words: "Tapped: Get started", "Came from an ad:
    Summer sale", "Opened the chat from a link (ref spring_promo)", "Opted in: Weekly deals".
    Whatever fields Meta left out, it says as much as it can."""
    details = message.details if isinstance(message.details, dict) else {}
    if message.kind == Message.Kind.POSTBACK:
        title = detail_text(details.get("title")) or message.text
        return f"Tapped: {title}" if title else "Tapped a button"
    if message.kind == Message.Kind.OPTIN:
        title = detail_text(details.get("title"))
        return f"Opted in: {title}" if title else "Opted in"
    ad = details.get("ads_context_data")
    ad_title = detail_text(ad.get("ad_title")) if isinstance(ad, dict) else ""
    if ad_title:
        return f"Came from an ad: {ad_title}"
    if (
        ad is not None
        or detail_text(details.get("ad_id"))
        or detail_text(details.get("source")) == "ADS"
    ):
        return "Came from an ad"
    ref = detail_text(details.get("ref"))
    return f"Opened the chat from a link (ref {ref})" if ref else "Opened the chat from a link"


def detail_text(value: object) -> str:
    """A detail as text: Meta's strings, ids sent as numbers; anything else is left out."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def conversation_record_message(*, message: Message) -> None:
    """Fold a newly stored message into its conversation's summary, in one UPDATE.

    Conditional expressions, so messages arriving out of order (Meta does not guarantee
    order) never move a clock backwards and two workers never overwrite each other's newer
    value. A customer message moves the reply-window clock, reopens a closed conversation,
    wakes a snoozed one and marks it unread for agents.

    Plain SQL (PostgreSQL and SQLite alike): the ORM spelling of this statement, three
    `Case(When(Q(...)))`, cost about 1.5 ms of CPU to compile on every message, a quarter of
    a webhook event's processing; this costs 0.2 ms. As in any UPDATE, every right-hand side
    reads the row's old values.
    """
    conversations_record_messages(messages=[message])


def conversations_record_messages(*, messages: Iterable[Message]) -> None:
    """`conversation_record_message` for several messages (of different conversations), in
    the order given. Consecutive updates of the same shape, as customer messages are, go to
    the database together: one round trip rather than one each."""
    messages = list(messages)
    live_touch_many(conversations=[(m.account_id, m.conversation_id) for m in messages])
    connection = transaction.get_connection()
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        for moves_window, same in groupby(messages, key=message_moves_window):
            sql = _summary_sql(ops, moves_window=moves_window)
            runs = [_summary_params(message, ops, now, moves_window) for message in same]
            if len(runs) == 1:
                cursor.execute(sql, runs[0])
            else:
                cursor.executemany(sql, runs)


def message_moves_window(message: Message) -> bool:
    """A customer's message of a kind that opens (or keeps open) Meta's reply window."""
    return message.direction == Message.Direction.INBOUND and message.kind in WINDOW_KINDS


def _summary_sql(ops: BaseDatabaseOperations, *, moves_window: bool) -> str:
    column = {name: ops.quote_name(db_column) for name, db_column in _SUMMARY_COLUMNS.items()}
    last, preview = column["last_message_at"], column["last_message_preview"]
    is_newest = f"({last} IS NULL OR {last} <= %s)"
    assignments = [
        f"{last} = CASE WHEN {is_newest} THEN %s ELSE {last} END",
        f"{preview} = CASE WHEN {is_newest} THEN %s ELSE {preview} END",
        f"{column['updated_at']} = %s",
    ]
    if moves_window:
        customer = column["last_customer_message_at"]
        assignments += [
            f"{column['last_inbound_received_at']} = %s",
            f"{column['status']} = %s",
            # The customer wrote: a snoozed conversation wakes (unread, by the line above).
            f"{column['snoozed_until']} = NULL",
            f"{customer} = CASE WHEN ({customer} IS NULL OR {customer} < %s) "
            f"THEN %s ELSE {customer} END",
        ]
    table = ops.quote_name(Conversation._meta.db_table)
    return f"UPDATE {table} SET {', '.join(assignments)} WHERE {column['id']} = %s"  # noqa: S608


def _summary_params(
    message: Message, ops: BaseDatabaseOperations, now: Any, moves_window: bool
) -> list[Any]:
    """The values for `_summary_sql`'s placeholders, in their order."""
    moment = ops.adapt_datetimefield_value(message.timestamp)
    params: list[Any] = [moment, moment, moment, message_preview(message), now]
    if moves_window:
        params += [now, Conversation.Status.OPEN.value, moment, moment]
    return [*params, message.conversation_id]


_SUMMARY_COLUMNS = {
    field.name: field.column
    for field in Conversation._meta.concrete_fields
    if field.name
    in {
        "id",
        "last_message_at",
        "last_message_preview",
        "last_customer_message_at",
        "last_inbound_received_at",
        "status",
        "snoozed_until",
        "updated_at",
    }
}


def conversation_refresh_preview(*, conversation_id: int) -> None:
    """Recompute the preview from the newest message (after an unsend or an edit)."""
    newest = (
        Message.objects.filter(conversation_id=conversation_id)
        .order_by("-timestamp", "-id")
        .first()
    )
    if newest is not None:
        Conversation.objects.filter(pk=conversation_id).update(
            last_message_preview=message_preview(newest)
        )
        live_touch_message(message=newest)
