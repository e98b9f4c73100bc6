"""The OAuth `state` of Instagram Login: issued when an admin starts a connect, kept in their
session, and spent by the callback, so a callback is accepted only once, only in the session
that started it, and only within 10 minutes. Makes no call to Meta."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.utils import timezone

from common.cache import cache_or

logger = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=10)
SESSION_KEY = "accounts_oauth_states"
# An admin may have a few connect tabs open; older pending states are dropped.
MAX_PENDING_STATES = 5
# Hashes of consumed states, remembered so a replay is told apart from a forgery.
MAX_USED_STATES = 20


class StateRefused(Exception):
    """The callback's `state` is missing, unknown, already used or expired."""

    MESSAGES = {
        "missing": "The sign-in answer from Instagram carried no state.",
        "wrong": "The sign-in answer does not belong to a connect you started in this session.",
        "reused": "This sign-in answer was already used.",
        "expired": "This sign-in took longer than 10 minutes.",
    }

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGES[reason])
        self.reason = reason


@dataclass(frozen=True)
class PendingConnect:
    """What the admin asked for when the state was issued."""

    reconnect_account_id: int | None


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def oauth_state_issue(*, session: SessionBase, reconnect_account_id: int | None = None) -> str:
    """A fresh random state, remembered in the admin's session for 10 minutes."""
    state = secrets.token_urlsafe(32)
    stored = session.get(SESSION_KEY, {})
    pending: dict[str, Any] = dict(stored.get("pending", {}))
    pending[_state_hash(state)] = {
        "at": timezone.now().timestamp(),
        "reconnect": reconnect_account_id,
    }
    # Expired entries stay until pushed out, so their callback is told "expired", not "wrong".
    newest = sorted(pending.items(), key=lambda item: item[1]["at"])[-MAX_PENDING_STATES:]
    session[SESSION_KEY] = {"pending": dict(newest), "used": stored.get("used", [])}
    return state


def oauth_state_consume(*, session: SessionBase, state: str) -> PendingConnect:
    """Check and spend a state: it works once, in the session that asked for it, within
    10 minutes. Raises StateRefused otherwise."""
    if not state:
        raise StateRefused("missing")
    digest = _state_hash(state)
    stored = session.get(SESSION_KEY, {})
    pending: dict[str, Any] = dict(stored.get("pending", {}))
    used: list[str] = list(stored.get("used", []))
    match = next((h for h in pending if hmac.compare_digest(h, digest)), None)
    if match is None:
        raise StateRefused("reused" if digest in used else "wrong")
    entry = pending.pop(match)
    session[SESSION_KEY] = {"pending": pending, "used": [*used, digest][-MAX_USED_STATES:]}
    # Two callbacks racing with one state both read the session before either saves it:
    # the cache (Redis in production) lets exactly one of them through. With the cache down
    # both may pass; Meta takes each authorization code once, so the second one's exchange
    # is refused there.
    key, ttl = f"accounts:oauth-state:{digest}", int(STATE_TTL.total_seconds())
    if not cache_or(
        logger, "connect: state race guard skipped", lambda: cache.add(key, 1, ttl), True
    ):
        raise StateRefused("reused")
    if timezone.now().timestamp() - entry["at"] > STATE_TTL.total_seconds():
        raise StateRefused("expired")
    return PendingConnect(reconnect_account_id=entry.get("reconnect"))
