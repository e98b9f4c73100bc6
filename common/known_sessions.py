"""Sessions this process has seen Django authenticate, so that a request that only asks
"has anything changed?" can be answered without loading the session and the user.

An open inbox page asks that every 2 s, and the answer is nearly always "no" (204). Django's
own check reads the session row, decodes it, loads the user and verifies the session's hash
against the user's password: two statements and more CPU than the answer itself. Here, once
Django has authenticated a session, the process remembers the session row's data as it was
loaded and a digest of the user's password hash as it was then (`known_session_note`). A
later request with that session cookie proves it is still the same login with one condition
evaluated inside the query it runs anyway (`known_session_proof_sql`): the session row holds
exactly that data and has not expired, and the user is still active with the same password.
Django itself would accept such a request: the same session data holds the same user id,
backend and hash, and the same password hash gives the same hash.

Whatever fails the proof (logged out, expired, flushed or changed session, password changed,
deactivated, deleted, or a session this process has not seen) gets no answer from it: the
request goes through Django's authentication as usual. Nothing is cached across processes,
and an entry is trusted for a few minutes at most before Django checks the login again.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone

# How long a remembered login is used before Django authenticates the session again (and
# how stale the agent's name shown to colleagues may get).
KNOWN_FOR_SECONDS = 300.0
# Bounded: one entry per logged-in browser this process serves; the oldest go first.
KNOWN_MOST = 20_000


@dataclass(frozen=True)
class KnownSession:
    key: str
    data: str  # the session row's session_data, as Django loaded and decoded it
    user_id: int
    password_digest: str  # SHA-256 (hex) of the user's password hash then
    name: str  # how colleagues see the agent (presence)
    noted: float  # time.monotonic()


_known: dict[str, KnownSession] = {}
_lock = threading.Lock()


def known_session_note(request: HttpRequest, *, name: str) -> None:
    """Remember the request's session, once Django has authenticated its user from it, with
    how colleagues see its agent (`name`). Nothing is remembered for a session this request
    changed (its saved data will differ)."""
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    data = getattr(session, "loaded_data", None)
    key = getattr(session, "session_key", None)
    if (
        user is None
        or not user.is_authenticated
        or not data
        or not key
        or session is None
        or session.modified
    ):
        return
    entry = KnownSession(
        key=key,
        data=data,
        user_id=int(user.pk),
        password_digest=hashlib.sha256(str(getattr(user, "password", "")).encode()).hexdigest(),
        name=name,
        noted=time.monotonic(),
    )
    with _lock:
        _known.pop(key, None)
        if len(_known) >= KNOWN_MOST:
            del _known[next(iter(_known))]
        _known[key] = entry


def known_session(request: HttpRequest) -> KnownSession | None:
    """The remembered login for the request's session cookie, if recent enough. It still
    has to be proven by `known_session_proof_sql` in the query that uses it."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return None
    entry = _known.get(key)
    if entry is None or time.monotonic() - entry.noted > KNOWN_FOR_SECONDS:
        return None
    return entry


def known_sessions_clear() -> None:
    """For tests: forget every remembered login."""
    with _lock:
        _known.clear()


def known_session_proof_sql(known: KnownSession) -> tuple[str, list[Any]]:
    """A boolean SQL expression (and its parameters) true exactly when `known` still holds:
    its session row unchanged and unexpired, its user active with the same password."""
    params = [known.key, timezone.now(), known.data, known.user_id, known.password_digest]
    return _proof_sql(connection.vendor), params


@lru_cache(maxsize=4)
def _proof_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    sessions = quote(Session._meta.db_table)
    users = quote(get_user_model()._meta.db_table)
    # The password hash is compared as a digest: the statement (which DEBUG logs with its
    # parameters) never carries the hash itself. SQLite has Django's SHA256 function.
    password = (
        "encode(sha256(ku.password::bytea), 'hex')"
        if vendor == "postgresql"
        else "SHA256(ku.password)"
    )
    return (
        f"(EXISTS (SELECT 1 FROM {sessions} ks WHERE ks.session_key = %s "  # noqa: S608
        f"AND ks.expire_date > %s AND ks.session_data = %s) "
        f"AND EXISTS (SELECT 1 FROM {users} ku WHERE ku.id = %s AND ku.is_active "
        f"AND {password} = %s))"
    )
