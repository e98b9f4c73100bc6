"""What the thread and the customer panel show of a customer's action: the button tapped
(postback), the link or ad followed (referral), the opt-in, and the click-to-DM ad a message
came from.

Meta's details are shown as they were stored, whatever is missing or odd in them: every
value is read defensively, a photo reaches an `src` only as an http(s) URL, and nothing here
raises on a shape it did not expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import Conversation, Message
from .presenters import safe_url
from .selectors import conversation_referrals
from .services.conversations import ACTION_KINDS, customer_action_label
from .services.conversations import detail_text as text

# Meta's `referral.source` values in the agents' words; anything else is shown as sent.
SOURCE_LABELS = {
    "ADS": "Ad",
    "IGME": "ig.me link",
    "SHORTLINK": "ig.me link",
    "CUSTOMER_CHAT_PLUGIN": "Chat plugin",
}


@dataclass(frozen=True)
class AdView:
    """A click-to-DM ad, from `referral.ads_context_data` and `referral.ad_id`."""

    title: str
    photo_url: str  # "" unless an http(s) URL
    ad_id: str
    post_id: str
    product_id: str
    ref: str


@dataclass(frozen=True)
class ActionView:
    """A postback, referral or opt-in as the thread shows it."""

    label: str  # "Tapped: Get started", "Came from an ad: Summer sale", ...
    payload: str  # a postback's or opt-in's payload, shown on demand
    source: str  # a referral's source in words ("ig.me link", "Ad")
    ref: str
    ad: AdView | None


def _details(message: Message) -> dict[str, Any]:
    return message.details if isinstance(message.details, dict) else {}


def message_referral(message: Message) -> dict[str, Any]:
    """The referral a message carries: a referral's own details, or the `referral` inside a
    postback (an ad's button as a first contact) or a message (a click-to-DM ad)."""
    details = _details(message)
    if message.kind == Message.Kind.REFERRAL:
        return details
    referral = details.get("referral")
    return referral if isinstance(referral, dict) else {}


def ad_present(referral: dict[str, Any]) -> AdView | None:
    """The ad a referral names, or None when it came from no ad."""
    context = referral.get("ads_context_data")
    context = context if isinstance(context, dict) else {}
    ad_id = text(referral.get("ad_id"))
    if not context and not ad_id and text(referral.get("source")).upper() != "ADS":
        return None
    return AdView(
        title=text(context.get("ad_title")),
        photo_url=safe_url(context.get("photo_url")) or safe_url(context.get("video_url")),
        ad_id=ad_id,
        post_id=text(context.get("post_id")),
        product_id=text(context.get("product_id")),
        ref=text(referral.get("ref")),
    )


def message_ad_present(message: Message) -> AdView | None:
    """The ad a customer's message, tap or referral came from."""
    if message.direction != Message.Direction.INBOUND:
        return None
    return ad_present(message_referral(message))


def message_action_present(message: Message) -> ActionView | None:
    """A postback, referral or opt-in in the thread; None for any other message."""
    if message.kind not in ACTION_KINDS:
        return None
    return _action_view(message, label=customer_action_label(message))


def message_came_from_present(message: Message) -> ActionView | None:
    """Where a customer's message came from (a click-to-DM ad, an ig.me link with a ref), or
    None when it carries no referral. Postbacks, referrals and opt-ins say it themselves."""
    if message.direction != Message.Direction.INBOUND or message.kind in ACTION_KINDS:
        return None
    if not message_referral(message):
        return None
    return _action_view(message, label="")


def _action_view(message: Message, *, label: str) -> ActionView:
    referral = message_referral(message)
    source = text(referral.get("source"))
    return ActionView(
        label=label,
        payload=text(_details(message).get("payload")),
        source=SOURCE_LABELS.get(source.upper(), source),
        ref=text(referral.get("ref")),
        ad=message_ad_present(message),
    )


def conversation_ad_present(*, conversation: Conversation) -> AdView | None:
    """The newest ad the customer came from, for the customer panel."""
    for message in conversation_referrals(conversation=conversation):
        ad = message_ad_present(message)
        if ad is not None:
            return ad
    return None
