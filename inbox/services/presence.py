"""Who is where: the agents viewing a conversation and typing in it (kept in the cache for
a few seconds, one field per agent, refreshed by each live poll of the thread), and when an
agent last had the inbox open at all (in the database, written at most once a minute:
"online" for auto-assignment, read by the worker).

A web process writes its agents' notes and reads back the conversations they are in at
most once a second, all in one round trip (`NOTES_EVERY_SECONDS`), rather than once a
poll: the round trip was a fifth of an unchanged thread poll's time in the web process
(0.156 of 0.745 ms; now 0.037 ms), and Redis took one a thread poll from every agent. A
poll in between answers from what the process last read, with the notes it holds still to
write: colleagues polling the same process see each other at once, those on another
process a second later at most."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from accounts.models import AgentPresence
from common.cache import cache_hash_notes, cache_or

logger = logging.getLogger(__name__)

# A viewer's entry lasts a little longer than a hidden tab's poll interval (15 s); typing
# lasts a few of the visible thread's polls (2 s each) after the last keystroke reported.
VIEWING_SECONDS = 20
TYPING_SECONDS = 6
# Written at most once a minute per agent; "online" is seen within ONLINE_WITHIN.
SEEN_EVERY_SECONDS = 60
ONLINE_WITHIN = timedelta(minutes=5)
# How often a process writes the presence notes of its polls, and reads back the
# conversations they are in (one round trip for them all).
NOTES_EVERY_SECONDS = 1.0
_clock = time.monotonic  # of the batches (tests move it)


# When this process last asked the cache whether an agent's "seen" was due (by user id).
_seen_here: dict[int, float] = {}


class _Notes:
    """The presence notes this process holds still to write, and what it last read of each
    conversation they are in (`_clock()` when read, and the hash's entries)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[int, dict[str, str]] = {}
        self.read: dict[int, tuple[float, dict[str, str]]] = {}
        self.written = -NOTES_EVERY_SECONDS  # `_clock()` when the last batch was taken

    def clear(self) -> None:
        with self.lock:
            self.pending.clear()
            self.read.clear()
            self.written = -NOTES_EVERY_SECONDS


_notes = _Notes()


def presence_memo_clear() -> None:
    """For tests: as in a new process."""
    _seen_here.clear()
    _notes.clear()


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
    (typing or not); answer who else does. The note is written with the process's others
    once a second at most (`NOTES_EVERY_SECONDS`), or at once for a conversation the
    process has not read yet. In Redis each agent's note is a field of its own; on another
    cache two processes writing at once may each write over the other's notes, and their
    next batch writes them again, well within the entries' life."""
    now = time.time()
    me = str(user_id)
    note = json.dumps({"name": name, "seen": now, "typing": now if typing else 0})
    batch = None
    with _notes.lock:
        _notes.pending.setdefault(conversation_id, {})[me] = note
        moment = _clock()
        if conversation_id not in _notes.read or moment - _notes.written >= NOTES_EVERY_SECONDS:
            batch, _notes.pending = _notes.pending, {}
            _notes.written = moment
    if batch:
        _notes_write(batch, moment)
    with _notes.lock:
        _, entries = _notes.read.get(conversation_id, (0.0, {}))
        entries = {**entries, **_notes.pending.get(conversation_id, {})}
    viewers = []
    for pk, text in entries.items():
        entry = json.loads(text)
        if pk != me and now - float(entry.get("seen", 0)) < VIEWING_SECONDS:
            typing_at = float(entry.get("typing") or 0)
            viewers.append(Viewer(name=str(entry["name"]), typing=now - typing_at < TYPING_SECONDS))
    return sorted(viewers, key=lambda viewer: viewer.name.lower())


def _notes_write(batch: dict[int, dict[str, str]], moment: float) -> None:
    """Write `batch` (conversation: {agent: note}) and keep what each hash holds now. The
    cache down: presence waits for it (each conversation shows the notes of this process
    alone), and the poll itself goes on."""
    found = cache_or(
        logger,
        "presence: polls answer without it",
        lambda: cache_hash_notes(
            {_key(pk): fields for pk, fields in batch.items()}, VIEWING_SECONDS
        ),
        None,
    )
    with _notes.lock:
        for pk, fields in batch.items():
            entries = found.get(_key(pk), fields) if found is not None else fields
            _notes.read[pk] = (moment, entries)
        # A conversation no poll has noted for a viewer's life is forgotten.
        for pk in [pk for pk, (at, _) in _notes.read.items() if moment - at > VIEWING_SECONDS]:
            del _notes.read[pk]


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
