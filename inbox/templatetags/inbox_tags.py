"""Presentation helpers for the inbox templates: ages, window labels, attachments, links."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django import template
from django.utils import timezone
from django.utils.html import escape, urlize
from django.utils.safestring import SafeString, mark_safe

from inbox.models import Conversation, Message
from inbox.services.window import ReplyWindow, WindowState, conversation_reply_window

register = template.Library()

# The heart (sticker, reactions, the sticker button), drawn rather than an emoji so it looks
# the same on every system; passed in the thread's context rather than included per message.
HEART_SVG = mark_safe(
    '<svg class="heart-svg" viewBox="0 0 24 24" aria-hidden="true"><path d="M12 21s-7.6-4.4-9.6'
    "-9.1C.9 8.5 3.1 4.8 6.8 4.8c2 0 3.5 1.1 4.3 2.6h1.8c.8-1.5 2.3-2.6 4.3-2.6 3.7 0 5.9 3.7 "
    '4.4 7.1C19.6 16.6 12 21 12 21z"/></svg>'
)

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


def duration_label(left: timedelta) -> str:
    """ "5 d", "23 h", "12 min": floored, so the label never promises more than is left."""
    seconds = int(left.total_seconds())
    if seconds >= 86400:
        return f"{seconds // 86400} d"
    if seconds >= 3600:
        return f"{seconds // 3600} h"
    return f"{max(seconds // 60, 1)} min"


def window_label(window: ReplyWindow, now: datetime | None = None) -> str:
    left = window.time_left(now)
    if window.state == WindowState.OPEN and left is not None:
        # Hours, never "1 d": the standard window is a day long at most.
        return f"{duration_label(min(left, timedelta(hours=23, minutes=59)))} left"
    if window.state == WindowState.HUMAN_AGENT and left is not None:
        return f"human agent: {duration_label(left)} left"
    return "closed until the customer writes"


@register.simple_tag
def reply_window_of(conversation: Conversation) -> dict[str, Any]:
    """The window for templates: state, label, and the tag a reply would carry."""
    window = conversation_reply_window(conversation=conversation)
    return {
        "state": str(window.state),
        "label": window_label(window),
        "tag": window.tag,
        "reason": window.reason,
        "closes_at": window.closes_at,
    }


@register.filter
def age(moment: datetime | None) -> str:
    """Compact age for the list: "now", "5m", "3h", "Mon", "12 Mar", "12 Mar 2023"."""
    if moment is None:
        return ""
    now = timezone.now()
    delta = now - moment
    if delta < timedelta(minutes=1):
        return "now"
    if delta < timedelta(hours=1):
        return f"{int(delta.total_seconds() // 60)}m"
    if delta < timedelta(hours=24):
        return f"{int(delta.total_seconds() // 3600)}h"
    local = timezone.localtime(moment)
    if delta < timedelta(days=7):
        return local.strftime("%a")
    if local.year == timezone.localtime(now).year:
        return f"{local.day} {local:%b}"
    return f"{local.day} {local:%b %Y}"


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


@register.filter
def initials(name: str) -> str:
    words = [w for w in name.replace("@", " ").replace(".", " ").split() if w]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def _payload(attachment: Any) -> dict[str, Any]:
    if not isinstance(attachment, dict):
        return {}
    payload = attachment.get("payload")
    return payload if isinstance(payload, dict) else {}


def _safe_url(value: Any) -> str:
    """Only http(s) links reach an href or src: a javascript: URL in a payload stays inert."""
    if not isinstance(value, str):
        return ""
    return value if urlsplit(value).scheme in ("http", "https") else ""


@register.filter
def attachment_view(attachment: Any) -> dict[str, str]:
    """One attachment, whether stored flat ({"type", "url"}) or as Meta sends it
    ({"type", "payload": {"url"}}), reduced to what the bubble shows."""
    payload = _payload(attachment)
    data = attachment if isinstance(attachment, dict) else {}
    kind = str(data.get("type") or "file")
    url = _safe_url(data.get("url") or payload.get("url") or payload.get("link"))
    title = str(data.get("title") or payload.get("title") or data.get("name") or "")
    if kind in IMAGE_TYPES:
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
    }


@register.filter
def safe_url(value: Any) -> str:
    return _safe_url(value)


@register.simple_tag
def message_version(message: Message) -> str:
    """Changes whenever the bubble would render differently; the live merge skips equal ones."""
    reactions = [(r.actor, r.reaction, r.emoji) for r in message.reactions.all()]
    parts = (
        message.updated_at,
        message.status,
        message.text,
        message.edit_count,
        message.is_deleted,
        message.error_code,
        message.error_reason,
        message.seen_at,
        message.mid,
        reactions,
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=6).hexdigest()


@register.filter
def reaction_by(message: Message, actor: str) -> Any:
    for reaction in message.reactions.all():
        if reaction.actor == actor:
            return reaction
    return None


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: Any) -> str:
    """The current list query string with some parameters changed (None or "" drops one)."""
    query = context["request"].GET.copy()
    for key in ("older", "newer", "v", "fragment", "before", "visible", "current"):
        query.pop(key, None)
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
