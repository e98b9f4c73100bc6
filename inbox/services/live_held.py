"""What an open thread holds, kept so that a live poll that is behind renders only what changed.

Every render of a thread (the page, and each poll's update) is described by a small map:
each part's data-v (header, tools, reply state, customer panel) and each message, note and
activity line's id and data-v. The map is kept in the cache under its own digest, which the
page carries (`data-r`) and sends back with its next poll. A poll that finds it renders only
the parts and items whose data-v differ from it, and new items (inbox/presenters_live.py).

Keyed by its content rather than by the version: two renders under one version can hold
different things (a change committed while one of them rendered), while one digest always
names exactly what the page has. A map not found (expired, evicted, the cache down) means
a full render, as before: the cache only ever saves work, it never decides what is shown.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field

from django.core.cache import cache

from common.cache import cache_or

from .live import LIVE_MAX_AGE

logger = logging.getLogger(__name__)

# A poll whose version has just expired (LIVE_MAX_AGE) still finds the map of its page.
HELD_MAX_AGE = LIVE_MAX_AGE.total_seconds() + 120
# A map let go of lasts this long: two of a hidden tab's polls (15 s each).
HELD_GRACE_SECONDS = 30
_PREFIX = "inbox:held:"
KEY_CHARS = 32  # a key's hex digits


@dataclass(frozen=True)
class Held:
    """A render: data-v by part name, and by item id (a thread's "m-12", "n-3", "a-7"; a
    list's rows "c-5")."""

    parts: dict[str, str] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> str:
        return json.dumps({"p": self.parts, "i": self.items}, sort_keys=True)

    def key(self) -> str:
        return hashlib.blake2b(self.as_json().encode(), digest_size=KEY_CHARS // 2).hexdigest()


def held_record(*, held: Held) -> str:
    """Keep `held` for the page's next polls; its key, for the page to carry (whether or not
    the cache took it: a key it lost is a full render later)."""
    text = held.as_json()
    key = hashlib.blake2b(text.encode(), digest_size=KEY_CHARS // 2).hexdigest()
    # Redis down: the next poll renders everything.
    cache_or(
        logger, "live map not kept", lambda: cache.set(_PREFIX + key, text, HELD_MAX_AGE), None
    )
    return key


def held_let_go(*, key: str) -> None:
    """A map its page has moved on from (its poll got a newer one) lives a little longer
    only: other pages may hold the same one (colleagues on the same view of the list, or on
    the same conversation, render the same), and each finds it at its next poll, within a
    hidden tab's interval. A map deleted at once made every one of them render in full."""
    cache_or(
        logger, "live map not let go", lambda: cache.touch(_PREFIX + key, HELD_GRACE_SECONDS), None
    )


def held_lookup(*, key: str) -> Held | None:
    """The map the page that sent `key` holds, or None (then render everything)."""
    if len(key) != KEY_CHARS or not all(c in "0123456789abcdef" for c in key):
        return None
    text = cache_or(logger, "live map not read", lambda: cache.get(_PREFIX + key), None)
    if not isinstance(text, str):
        return None
    try:
        found = json.loads(text)
        held = Held(parts=dict(found["p"]), items=dict(found["i"]))
    except (ValueError, KeyError, TypeError):
        return None
    # Content-addressed: what is stored under a key is what the key names, or nothing.
    return held if held.key() == key else None
