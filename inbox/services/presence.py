"""Who is where: the agents viewing a conversation and typing in it (kept in the cache for
a few seconds, refreshed by each live poll of the thread), and when an agent last had the
inbox open at all (in the database, written at most once a minute: "online" for
auto-assignment, read by the worker)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.utils import timezone

from accounts.models import AgentPresence

AnyUser = AbstractBaseUser | AnonymousUser
# A viewer's entry lasts a little longer than a hidden tab's poll interval (15 s); typing
# lasts a few of the visible thread's polls (2 s each) after the last keystroke reported.
VIEWING_SECONDS = 20
TYPING_SECONDS = 6
# Written at most once a minute per agent; "online" is seen within ONLINE_WITHIN.
SEEN_EVERY_SECONDS = 60
ONLINE_WITHIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Viewer:
    name: str
    typing: bool


def _key(conversation_id: int) -> str:
    return f"inbox:presence:{conversation_id}"


def _name(user: AnyUser) -> str:
    short = getattr(user, "get_short_name", lambda: "")()
    return str(short or user.get_username())


def conversation_presence_note(
    *, conversation_id: int, user: AnyUser, typing: bool
) -> list[Viewer]:
    """Note that `user` has the conversation open (typing or not); answer who else does.
    Two agents polling at once may each write over the other's note; the next poll (2 s
    on) writes it again, well within the entries' life."""
    now = time.time()
    key = _key(conversation_id)
    entries: dict[str, dict[str, object]] = cache.get(key) or {}
    fresh = {
        pk: entry
        for pk, entry in entries.items()
        if now - float(entry.get("seen", 0)) < VIEWING_SECONDS  # type: ignore[arg-type]
    }
    me = str(user.pk)
    fresh[me] = {"name": _name(user), "seen": now, "typing": now if typing else 0}
    cache.set(key, fresh, VIEWING_SECONDS)
    return sorted(
        (
            Viewer(
                name=str(entry["name"]),
                typing=now - float(entry.get("typing") or 0) < TYPING_SECONDS,  # type: ignore[arg-type]
            )
            for pk, entry in fresh.items()
            if pk != me
        ),
        key=lambda viewer: viewer.name.lower(),
    )


def agent_seen(*, user: AnyUser, now: datetime | None = None) -> bool:
    """Record that the agent has the inbox open (for auto-assignment): one upsert, at most
    once a minute per agent. True when written."""
    if user.pk is None or not cache.add(f"inbox:seen:{user.pk}", 1, SEEN_EVERY_SECONDS):
        return False
    AgentPresence.objects.bulk_create(
        [AgentPresence(user_id=user.pk, seen_at=now or timezone.now())],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["seen_at"],
    )
    return True
