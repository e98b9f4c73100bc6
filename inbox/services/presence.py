"""Who is where: the agents viewing a conversation and typing in it (kept in the cache for
a few seconds, one field per agent, refreshed by each live poll of the thread in one round
trip), and when an agent last had the
inbox open at all (in the database, written at most once a minute: "online" for
auto-assignment, read by the worker)."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from accounts.models import AgentPresence
from common.cache import cache_hash_note, cache_or

logger = logging.getLogger(__name__)

# A viewer's entry lasts a little longer than a hidden tab's poll interval (15 s); typing
# lasts a few of the visible thread's polls (2 s each) after the last keystroke reported.
VIEWING_SECONDS = 20
TYPING_SECONDS = 6
# Written at most once a minute per agent; "online" is seen within ONLINE_WITHIN.
SEEN_EVERY_SECONDS = 60
ONLINE_WITHIN = timedelta(minutes=5)


# When this process last asked the cache whether an agent's "seen" was due (by user id).
_seen_here: dict[int, float] = {}


def presence_memo_clear() -> None:
    """For tests: as in a new process."""
    _seen_here.clear()


@dataclass(frozen=True)
class Viewer:
    name: str
    typing: bool


def _key(conversation_id: int) -> str:
    return f"inbox:presence:{conversation_id}"


def conversation_presence_note(
    *, conversation_id: int, user_id: int, name: str, typing: bool
) -> list[Viewer]:
    """Note that agent `user_id` (seen by colleagues as `name`) has the conversation open
    (typing or not); answer who else does. In Redis each agent's note is a field of its
    own; on another cache two agents polling at once may each write over the other's note,
    and the next poll (2 s on) writes it again, well within the entries' life."""
    now = time.time()
    me = str(user_id)
    note = json.dumps({"name": name, "seen": now, "typing": now if typing else 0})
    # The cache down: presence waits for it, and the poll itself goes on.
    nobody: dict[str, str] = {}
    entries = cache_or(
        logger,
        "presence: polls answer without it",
        lambda: cache_hash_note(_key(conversation_id), me, note, VIEWING_SECONDS),
        nobody,
    )
    viewers = []
    for pk, text in entries.items():
        entry = json.loads(text)
        if pk != me and now - float(entry.get("seen", 0)) < VIEWING_SECONDS:
            typing_at = float(entry.get("typing") or 0)
            viewers.append(Viewer(name=str(entry["name"]), typing=now - typing_at < TYPING_SECONDS))
    return sorted(viewers, key=lambda viewer: viewer.name.lower())


def agent_seen(*, user_id: int | None, now: datetime | None = None) -> bool:
    """Record that the agent has the inbox open (for auto-assignment): one upsert, at most
    once a minute per agent. True when written. A process that has written it (or found it
    written) in the last minute does not ask the cache again: most polls cost nothing here."""
    if user_id is None:
        return False
    moment = time.time()
    if 0 <= moment - _seen_here.get(user_id, -SEEN_EVERY_SECONDS) < SEEN_EVERY_SECONDS:
        return False
    _seen_here[user_id] = moment
    # The cache down: this process's minute alone keeps the writes rare meanwhile.
    key = f"inbox:seen:{user_id}"
    due = cache_or(
        logger, "presence: online marks", lambda: cache.add(key, 1, SEEN_EVERY_SECONDS), True
    )
    if not due:
        return False
    AgentPresence.objects.bulk_create(
        [AgentPresence(user_id=user_id, seen_at=now or timezone.now())],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["seen_at"],
    )
    return True
