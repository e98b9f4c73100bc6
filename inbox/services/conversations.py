"""Keeping a conversation's summary (list order, preview, reply-window clock) in step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from inbox.models import Conversation, Message

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


# Only these open (or keep open) Meta's reply window; postbacks, referrals and opt-ins do not.
WINDOW_KINDS = frozenset(
    {Message.Kind.TEXT, Message.Kind.ATTACHMENT, Message.Kind.STICKER, Message.Kind.UNSUPPORTED}
)


def _newer(field: str, moment: datetime, *, inclusive: bool) -> Q:
    later = Q(**{f"{field}__lte" if inclusive else f"{field}__lt": moment})
    return Q(**{f"{field}__isnull": True}) | later


def conversation_record_message(*, message: Message) -> None:
    """Fold a newly stored message into its conversation's summary, in one UPDATE.

    Conditional expressions, so messages arriving out of order (Meta does not guarantee
    order) never move a clock backwards and two workers never overwrite each other's newer
    value. A customer message moves the reply-window clock, reopens a closed conversation
    and marks it unread for agents.
    """
    now = timezone.now()
    moment = message.timestamp
    is_newest = _newer("last_message_at", moment, inclusive=True)
    changes: dict[str, Any] = {
        "last_message_at": Case(When(is_newest, then=Value(moment)), default=F("last_message_at")),
        "last_message_preview": Case(
            When(is_newest, then=Value(message_preview(message))),
            default=F("last_message_preview"),
        ),
        "updated_at": now,
    }
    if message.direction == Message.Direction.INBOUND and message.kind in WINDOW_KINDS:
        changes.update(
            last_inbound_received_at=now,
            status=Conversation.Status.OPEN,
            last_customer_message_at=Case(
                When(
                    _newer("last_customer_message_at", moment, inclusive=False), then=Value(moment)
                ),
                default=F("last_customer_message_at"),
            ),
        )
    Conversation.objects.filter(pk=message.conversation_id).update(**changes)


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
