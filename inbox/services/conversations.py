"""Keeping a conversation's summary (list order, preview, reply-window clock) in step."""

from __future__ import annotations

from django.db.models import Q
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


def conversation_record_message(*, message: Message) -> None:
    """Fold a newly stored message into its conversation's summary.

    Conditional updates, so messages arriving out of order (Meta does not guarantee order)
    never move a clock backwards, and two workers never overwrite each other's newer value.
    A new customer message reopens a closed conversation and marks it unread.
    """
    conversations = Conversation.objects.filter(pk=message.conversation_id)
    conversations.filter(
        Q(last_message_at__isnull=True) | Q(last_message_at__lte=message.timestamp)
    ).update(
        last_message_at=message.timestamp,
        last_message_preview=message_preview(message),
        updated_at=timezone.now(),
    )
    if message.direction != Message.Direction.INBOUND:
        return
    conversations.update(last_inbound_received_at=timezone.now(), status=Conversation.Status.OPEN)
    conversations.filter(
        Q(last_customer_message_at__isnull=True) | Q(last_customer_message_at__lt=message.timestamp)
    ).update(last_customer_message_at=message.timestamp)


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
