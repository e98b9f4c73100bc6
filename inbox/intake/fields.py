"""A webhook item's columns as a stored message: what `apply` (one item at a time) and `bulk`
(a group of customer messages at once) both store, so that the two ways give one result.

Meta's values are clipped to the columns' lengths rather than refused: one overlong field
must not cost the customer's message.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import Message
from instagram.events import Event, MessageEvent

logger = logging.getLogger(__name__)

# The `source` of an item read from the Conversations API (history sync), not a webhook.
HISTORY_SOURCE = "history"
STICKER_TYPES = frozenset({"like_heart", "sticker"})


def clipped(value: str, length: int) -> str:
    return value[:length]


def occurred_at(event: Event) -> datetime:
    """Meta's clock for the item (the window is measured from it), or now without one."""
    return event.timestamp or timezone.now()


def customer_id_usable(customer: str) -> bool:
    return 0 < len(customer) <= 64


def usable_customer(event: Event) -> str:
    """The item's customer id, or "" (logged) when it cannot key a conversation."""
    customer = event.customer_id
    if not customer_id_usable(customer):
        logger.info("%s without a usable customer id: ignored", type(event).__name__)
        return ""
    return customer


def inbound_fields(*, account: InstagramAccount, event: Event, mid: str) -> dict[str, Any]:
    """What every message from the customer has, but its conversation and content."""
    return {
        "account": account,
        "mid": clipped(mid, 255),
        "direction": Message.Direction.INBOUND,
        "origin": Message.Origin.CUSTOMER,
        "status": Message.Status.NONE,
        "timestamp": occurred_at(event),
        "via_standby": event.source == "standby",
        "imported": event.source == HISTORY_SOURCE,
    }


def message_fields(event: MessageEvent) -> dict[str, Any]:
    """A message item's content."""
    attachments = [attachment.as_dict() for attachment in event.attachments]
    if event.is_unsupported:
        kind = Message.Kind.UNSUPPORTED
    elif event.text or not attachments:
        kind = Message.Kind.TEXT
    elif all(a["type"] in STICKER_TYPES or "sticker_id" in a for a in attachments):
        kind = Message.Kind.STICKER
    else:
        kind = Message.Kind.ATTACHMENT
    return {
        "kind": kind,
        "text": event.text,
        "attachments": attachments,
        "reply_to_mid": clipped(event.reply_to_mid, 255),
        "reply_to_story_url": clipped(event.reply_to_story_url, 2000),
        "reply_to_story_id": clipped(event.reply_to_story_id, 64),
        "quick_reply_payload": clipped(event.quick_reply_payload, 1000),
        "details": {"referral": event.referral} if event.referral else {},
    }
