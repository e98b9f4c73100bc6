"""Customers' media as the thread shows it: Meta's links only (no copies are kept), and a
placeholder once a link has stopped working.

Stories live 24 hours on Instagram, so a story mention, a shared story or a story reply older
than that shows the placeholder without trying its link. Any other link that stops loading is
swapped for the same placeholder in the browser (static/js/inbox.js); without JavaScript the
browser's own broken-media icon shows, with the message's "Refresh media" button beside it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from .services.media import refreshable

EXPIRED_LABEL = "No longer available on Instagram"
STORY_TYPES = frozenset({"story_mention", "ig_story", "story"})
STORY_LIFETIME = timedelta(hours=24)


def story_expired(sent_at: datetime | None, now: datetime | None = None) -> bool:
    """A story is gone from Instagram 24 hours after it was posted; the message came after
    the story, so 24 hours from the message is the latest it can still be there."""
    return sent_at is not None and (now or timezone.now()) - sent_at > STORY_LIFETIME


def media_refreshable(message: Any) -> bool:
    """The message has a Meta id and media whose links Meta can renew."""
    attachments = getattr(message, "attachments", None)
    return (
        bool(getattr(message, "mid", ""))
        and not getattr(message, "is_deleted", False)
        and isinstance(attachments, list)
        and any(refreshable(a) for a in attachments)
    )
