"""Template filters and tags of the inbox: times, attachments, links, reactions.

What a conversation shows (its reply window, its list row) is decided in `inbox.presenters`;
the filters shared with it are registered here under their template names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import escape, urlize
from django.utils.safestring import SafeString, mark_safe

from common.bidi import isolate
from inbox.models import Conversation, Message
from inbox.presenters import age, initials, list_filters_query, safe_url
from inbox.presenters_actions import (
    AdView,
    conversation_ad_present,
    message_action_present,
    message_came_from_present,
)
from inbox.presenters_delivery import reply_wait_present
from inbox.presenters_live import message_digest
from inbox.presenters_media import (
    EXPIRED_LABEL,
    STORY_TYPES,
    media_refreshable,
    story_expired,
)

register = template.Library()

IMAGE_TYPES = {"image", "photo", "animated_image", "sticker"}
VIDEO_TYPES = {"video"}
AUDIO_TYPES = {"audio"}
CARD_LABELS = {
    "share": "Shared post",
    "ig_post": "Post",
    "ig_reel": "Reel",
    "reel": "Reel",
    "ig_story": "Story",
    "story_mention": "Story mention",
    "ephemeral": "Disappearing photo or video",
    "file": "File",
}


# Shared with the list's rows, which are built in Python (see inbox.presenters).
register.filter("age", age)
register.filter("initials", initials)
register.filter("safe_url", safe_url)
# A name where no <bdi> can go: a title, an attribute, an <option> (see common.bidi).
register.filter("isolate", isolate)
# What a customer tapped or came from (a postback, a referral, a click-to-DM ad).
register.filter("customer_action", message_action_present)
register.filter("came_from", message_came_from_present)
# Why a queued reply waits and when it is tried next.
register.filter("reply_wait", reply_wait_present)


@register.simple_tag
def conversation_ad(conversation: Conversation) -> AdView | None:
    """The ad the customer came from, for the customer panel."""
    return conversation_ad_present(conversation=conversation)


@register.filter
def day_label(day: date) -> str:
    today = timezone.localdate()
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    if day.year == today.year:
        return f"{day:%A}, {day.day} {day:%B}"
    return f"{day:%A}, {day.day} {day:%B %Y}"


@register.filter
def local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


# strftime-based: Django's date filter is costly when a thread shows dozens of timestamps.
@register.filter
def clock(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%H:%M") if moment else ""


@register.filter
def iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


@register.filter
def full_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M}"


# Something urlize could turn into a link: a scheme, "www.", a domain-like word, an e-mail.
MAYBE_LINK = re.compile(r"://|www\.|[\w-]\.[a-zA-Z]{2,}|@")


@register.filter(needs_autoescape=True)
def linkify(text: str, autoescape: bool = True) -> SafeString:
    """Escape the customer's text first, then turn URLs into links that open in a new tab."""
    if not MAYBE_LINK.search(text):
        return escape(text)  # urlize is slow; most messages hold no link
    html = urlize(text, nofollow=True, autoescape=autoescape)
    # urlize escaped everything that is not a link, so this marker can only be its own.
    return mark_safe(  # noqa: S308
        html.replace(' rel="nofollow">', ' target="_blank" rel="nofollow noopener noreferrer">')
    )


def _payload(attachment: Any) -> dict[str, Any]:
    if not isinstance(attachment, dict):
        return {}
    payload = attachment.get("payload")
    return payload if isinstance(payload, dict) else {}


@register.filter
def attachment_view(attachment: Any) -> dict[str, str]:
    """One attachment, whether stored flat ({"type", "url"}) or as Meta sends it
    ({"type", "payload": {"url"}}), reduced to what the bubble shows."""
    payload = _payload(attachment)
    data = attachment if isinstance(attachment, dict) else {}
    kind = str(data.get("type") or "file")
    url = safe_url(data.get("url") or payload.get("url") or payload.get("link"))
    title = str(data.get("title") or payload.get("title") or data.get("name") or "")
    # A shared story's picture or video is `story_media_url`; its `url` is the link to it.
    story_media = safe_url(data.get("story_media_url") or payload.get("story_media_url"))
    if kind in STORY_TYPES:
        shape = "story"
    elif kind in IMAGE_TYPES:
        shape = "image"
    elif kind in VIDEO_TYPES:
        shape = "video"
    elif kind in AUDIO_TYPES:
        shape = "audio"
    elif kind == "like_heart":
        shape = "heart"
    else:
        shape = "card"
    return {
        "kind": kind,
        "shape": shape,
        "url": url,
        "title": title,
        "label": CARD_LABELS.get(kind, "Attachment"),
        "media_url": story_media or (url if shape == "story" else ""),
        "expired": "",
    }


@register.filter
def media_views(message: Message) -> list[dict[str, str]]:
    """The message's attachments as `attachment_view`s; a story older than a day is marked
    expired (the template shows the placeholder without trying its link)."""
    attachments = message.attachments if isinstance(message.attachments, list) else []
    views = [attachment_view(a) for a in attachments]
    if any(v["shape"] == "story" for v in views) and story_expired(message.timestamp):
        for view in views:
            if view["shape"] == "story":
                view.update(url="", media_url="", expired=EXPIRED_LABEL)
    return views


@register.filter
def story_gone(message: Message) -> bool:
    """A story reply older than a day: its story has left Instagram."""
    return story_expired(message.timestamp)


register.filter("media_refreshable", media_refreshable)
register.simple_tag(lambda: EXPIRED_LABEL, name="expired_label")


@register.simple_tag
def message_version(message: Message, can_react: bool = False, replied: Any = None) -> str:
    """Changes whenever the bubble would render differently; the live merge skips equal ones."""
    return message_digest(message, can_react=can_react, replied=replied)


@register.simple_tag
def assignee_options(
    agents: Iterable[Any], assignee_id: int | None, user_id: int | None
) -> SafeString:
    """The assignee menu's options after "Unassigned", in one pass: the agent's own as "Me",
    a colleague by full name or username, each name escaped. As a template loop, a team of
    300 agents cost a thread page 20 ms (`bench/ui.py`); format_html per option, 4 ms."""
    options = []
    for agent in agents:
        if agent.pk == user_id:
            name = f"Me ({isolate(agent.get_username())})"
        else:
            name = isolate(agent.get_full_name() or agent.get_username())
        selected = " selected" if agent.pk == assignee_id else ""
        options.append(f'<option value="{int(agent.pk)}"{selected}>{escape(name)}</option>')
    return mark_safe("".join(options))  # noqa: S308  every name escaped, the value an int


@register.filter
def reaction_by(message: Message, actor: str) -> Any:
    for reaction in message.reactions.all():
        if reaction.actor == actor:
            return reaction
    return None


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: Any) -> str:
    """The current list query string with some parameters changed (None or "" drops one)."""
    query = list_filters_query(context["request"].GET)
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


REACTION_EMOJI = {
    "love": "❤️",
    "like": "👍",
    "haha": "😆",
    "wow": "😮",
    "sad": "😢",
    "angry": "😡",
    "yes": "👍",
    "no": "👎",
}


@register.filter
def reaction_emoji(reaction: Any) -> str:
    emoji = getattr(reaction, "emoji", "") or ""
    return emoji or REACTION_EMOJI.get(getattr(reaction, "reaction", ""), "❤️")


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None
