"""What an agent does to send: reply, react, retry. The inbox UI calls only this module.

Every refusal is a `ReplyRefused` whose `.message` an agent understands. A reply is stored as
a QUEUED row in the request and handed to `message_send_task` once the transaction commits
(write-ahead: nothing is lost if the broker or Meta is down); the task decides the window
and the HUMAN_AGENT tag again when it sends, on the server's clock.

A reply with text *and* an attachment becomes two messages, the attachment first and then
the text: Meta takes one attachment per message and no caption, and this is the order the
agent composed them in (a photo, then the words about it). Replies in one conversation
leave in the order they were written (see `inbox.outbound.delivery`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import Conversation, Message, Reaction
from inbox.services.conversations import conversation_record_message
from inbox.services.window import ReplyWindow, WindowState, conversation_reply_window

from .attachments import (
    AttachmentRefused,
    attachment_upload_check,
    attachment_upload_store,
    attachment_url_check,
)
from .errors import RECONNECT, UNKNOWN_STUCK
from .pacing import slot_reserve
from .reactions import EMOJI, REACTION
from .schedule import message_send_queue, reaction_send_queue

logger = logging.getLogger(__name__)

TEXT_LIMIT_BYTES = 1000
DISCONNECTED = (
    "This account is disconnected. An admin must connect it again before anyone can reply."
)
REACTIONS_24H = (
    "Reactions can only be sent within 24 hours of the customer's last message. "
    "It reopens when the customer writes again."
)


class ReplyRefused(Exception):
    """Why a reply, reaction or retry cannot go out; `.message` is for the agent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RetryNeedsConfirmation(ReplyRefused):
    """A reply whose outcome is unknown may already be in the customer's thread: it is sent
    again only once the agent has confirmed, having checked Instagram."""


def _account_refusal(account: InstagramAccount) -> str:
    if account.status == InstagramAccount.Status.DISCONNECTED:
        return DISCONNECTED
    if not account.can_send:
        return RECONNECT
    return ""


def reply_refusal(
    *, conversation: Conversation, now: datetime | None = None, window: ReplyWindow | None = None
) -> str:
    """Empty when a reply can be sent now; otherwise why not, and what would change it.
    `window`: the conversation's reply window, when the caller has it already."""
    refusal = _account_refusal(conversation.account)
    if refusal:
        return refusal
    window = window or conversation_reply_window(conversation=conversation, now=now)
    return "" if window.can_reply else window.reason


def text_refusal(*, text: str) -> str:
    """Empty when Meta accepts this text's length; otherwise why not."""
    size = len(text.encode("utf-8"))
    if size > TEXT_LIMIT_BYTES:
        return f"This message is {size:,} bytes; Instagram accepts at most {TEXT_LIMIT_BYTES:,}."
    return ""


def reply_create(
    *,
    conversation: Conversation,
    author: User,
    text: str = "",
    attachment_url: str = "",
    attachment_type: str = "",
    upload: UploadedFile | None = None,
    sticker: bool = False,
) -> Message:
    """Queue an agent's reply. Returns the last message created (the text, when an
    attachment and text were sent together)."""
    text = text.strip()
    attachment_url = attachment_url.strip()
    if attachment_url and upload is not None:
        raise ReplyRefused("Attach a file or paste a link, not both.")
    has_attachment = bool(attachment_url) or upload is not None
    if sticker and (text or has_attachment):
        raise ReplyRefused("The heart sticker is sent on its own, without text or attachments.")
    if not (text or has_attachment or sticker):
        raise ReplyRefused("Write a message, attach a file or send a heart.")
    refusal = reply_refusal(conversation=conversation) or text_refusal(text=text)
    if refusal:
        raise ReplyRefused(refusal)

    attachment: dict[str, Any] | None = None
    try:
        if attachment_url:
            attachment = dict(
                attachment_url_check(url=attachment_url, attachment_type=attachment_type)
            )
        elif upload is not None:
            kind, found = attachment_upload_check(upload=upload, attachment_type=attachment_type)
            attachment = attachment_upload_store(upload=upload, kind=kind, found_format=found)
    except AttachmentRefused as e:
        raise ReplyRefused(str(e)) from e

    drafts: list[dict[str, Any]] = []
    if sticker:
        drafts.append({"kind": Message.Kind.STICKER, "attachments": [{"type": "like_heart"}]})
    if attachment is not None:
        drafts.append({"kind": Message.Kind.ATTACHMENT, "attachments": [attachment]})
    if text:
        drafts.append({"kind": Message.Kind.TEXT, "text": text})
    with transaction.atomic():
        messages = [_queue(conversation=conversation, author=author, **d) for d in drafts]
    return messages[-1]


def _queue(
    *,
    conversation: Conversation,
    author: User,
    kind: str,
    text: str = "",
    attachments: list[dict[str, Any]] | None = None,
) -> Message:
    # The rate-limit slot is booked now, so the task is published once, for its moment.
    slot_at = slot_reserve(account_id=conversation.account_id, attachments=attachments or [])
    message = Message.objects.create(
        conversation=conversation,
        account_id=conversation.account_id,
        direction=Message.Direction.OUTBOUND,
        origin=Message.Origin.AGENT,
        kind=kind,
        text=text,
        attachments=attachments or [],
        status=Message.Status.QUEUED,
        author=author,
        timestamp=timezone.now(),
        # Not due before its slot: the sweep leaves it to its task until then.
        next_attempt_at=datetime.fromtimestamp(slot_at, UTC) if slot_at else None,
    )
    conversation_record_message(message=message)
    logger.info("queued message %s (%s) by user %s", message.pk, kind, author.pk)
    transaction.on_commit(lambda: message_send_queue(message_id=message.pk, slot_at=slot_at))
    return message


def message_retry(*, message: Message, author: User, confirmed: bool = False) -> Message:
    """An agent sends a failed (or unknown) reply again. It moves to the end of the thread,
    where the customer will see it. An unknown one needs `confirmed`: it may have arrived."""
    if message.direction != Message.Direction.OUTBOUND or message.origin != Message.Origin.AGENT:
        raise ReplyRefused("Only replies sent from this inbox can be retried.")
    retryable = [Message.Status.FAILED, Message.Status.UNKNOWN]
    if message.status not in retryable:
        raise ReplyRefused(
            f"This message is {message.get_status_display().lower()}; "
            "only failed messages can be retried."
        )
    refusal = reply_refusal(conversation=message.conversation)
    if refusal:
        raise ReplyRefused(refusal)
    if message.status == Message.Status.UNKNOWN and not confirmed:
        raise RetryNeedsConfirmation(message.error_reason or UNKNOWN_STUCK)
    now = timezone.now()
    with transaction.atomic():
        reset = Message.objects.filter(pk=message.pk, status__in=retryable).update(
            status=Message.Status.QUEUED,
            attempts=0,
            tag="",
            error_code="",
            error_reason="",
            sending_started_at=None,
            next_attempt_at=None,
            timestamp=now,
            updated_at=now,
        )
        if not reset:
            raise ReplyRefused("This message is already being sent again.")
        message.refresh_from_db()
        conversation_record_message(message=message)
        logger.info("message %s retried by user %s", message.pk, author.pk)
        transaction.on_commit(lambda: message_send_queue(message_id=message.pk))
    return message


def reaction_send(*, message: Message, author: User, remove: bool = False) -> None:
    """React with a heart to a customer's message, or take the heart back."""
    if message.direction != Message.Direction.INBOUND or not message.mid:
        raise ReplyRefused("You can only react to the customer's messages.")
    if message.is_deleted:
        raise ReplyRefused("The customer unsent this message.")
    conversation = message.conversation
    refusal = _account_refusal(conversation.account)
    if refusal:
        raise ReplyRefused(refusal)
    window = conversation_reply_window(conversation=conversation)
    if window.state != WindowState.OPEN:
        # Meta's tags apply to messages, not to sender actions such as reactions.
        raise ReplyRefused(window.reason or REACTIONS_24H)
    with transaction.atomic():
        mine = Reaction.objects.filter(message=message, actor=Reaction.Actor.BUSINESS)
        if remove:
            mine.delete()
        else:
            Reaction.objects.update_or_create(
                message=message,
                actor=Reaction.Actor.BUSINESS,
                defaults={"reaction": REACTION, "emoji": EMOJI, "reacted_at": timezone.now()},
            )
        logger.info(
            "user %s %s message %s",
            author.pk,
            "unreacted from" if remove else "reacted to",
            message.pk,
        )
        transaction.on_commit(lambda: reaction_send_queue(message_id=message.pk))
