"""Customers' media: only Meta's links are kept (Meta's policy forbids copies), and those
links expire. `message_media_refresh` asks Meta for fresh links to a message's media.

Meta answers `GET /{mid}?fields=attachments` only for a conversation's 20 newest messages, so
a refusal is expected for older ones and is told to the agent in words.
"""

from __future__ import annotations

import logging
from typing import Any

from accounts.meta import account_call
from inbox.models import Message
from instagram.errors import AuthError, GraphError, RateLimitedError, TransientError

logger = logging.getLogger(__name__)

# What Meta lists under `attachments` (shares, stories and reels come under other fields).
REFRESHABLE_TYPES = frozenset({"image", "photo", "animated_image", "video", "audio", "file"})

OLDER_MESSAGE = (
    "Instagram gave no new link for this message's media. It does so only for the 20 newest "
    "messages of a conversation; older media can be seen in the Instagram app."
)
NO_MID = "This message has no Instagram id, so Instagram cannot be asked for its media."
NO_MEDIA = "This message has no media to refresh."
BUSY = "Instagram did not answer just now. Try again in a minute."
TOKEN = "Instagram refused this account's token: an admin must reconnect the account."


class MediaRefreshRefused(Exception):
    """The media could not be refreshed; `.message` says why, for the agent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def refreshable(attachment: Any) -> bool:
    return isinstance(attachment, dict) and attachment.get("type") in REFRESHABLE_TYPES


def _merged(stored: list[Any], fresh: tuple[dict[str, str], ...]) -> list[Any]:
    """The stored attachments with the fresh links put in, in order, onto the media Meta
    lists; everything else (titles, ids, shares, stories) kept as it was."""
    links = iter(fresh)
    merged = []
    for attachment in stored:
        new = next(links, None) if refreshable(attachment) else None
        merged.append({**attachment, "url": new["url"]} if new else attachment)
    return merged


def _refusal(error: GraphError) -> str:
    if isinstance(error, AuthError):
        return TOKEN
    if isinstance(error, RateLimitedError | TransientError):
        return BUSY
    return OLDER_MESSAGE


def message_media_refresh(*, message: Message) -> int:
    """Fresh links for the message's media from Meta, stored in place of the old ones.
    Returns how many links changed; raises MediaRefreshRefused with the agent's words."""
    if not message.mid:
        raise MediaRefreshRefused(NO_MID)
    stored = message.attachments if isinstance(message.attachments, list) else []
    if not any(refreshable(a) for a in stored):
        raise MediaRefreshRefused(NO_MEDIA)
    account = message.conversation.account
    try:
        with account_call(account, doing="refreshing a message's media") as client:
            answer = client.get_message_attachments(mid=message.mid)
    except GraphError as error:
        logger.info("media refresh of message %s refused: %s", message.pk, error.code_label)
        raise MediaRefreshRefused(_refusal(error)) from error
    if not answer.attachments:
        raise MediaRefreshRefused(OLDER_MESSAGE)
    merged = _merged(stored, answer.attachments)
    changed = sum(old != new for old, new in zip(stored, merged, strict=True))
    message.attachments = merged
    # Saved even when equal: updated_at moves, so the thread re-renders and tries again.
    message.save(update_fields=["attachments", "updated_at"])
    return changed
