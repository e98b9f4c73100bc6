"""Instagram Login: the `state` that ties a callback to the admin who started it, the
authorize URL, and the connect flow (code → short-lived → long-lived token → /me →
webhook subscription → one database write).

Nothing is written to the database before every call to Meta has succeeded, so a failed
step never leaves a half-made account behind.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.utils import timezone

from common.redact import redact
from instagram.errors import GraphError

from .crypto import encrypt_token
from .meta import graph_client
from .models import InstagramAccount

logger = logging.getLogger(__name__)

T = TypeVar("T")

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
    10 minutes. Raises StateRefused otherwise. Makes no call to Meta."""
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
    # the cache (Redis in production) lets exactly one of them through.
    if not cache.add(f"accounts:oauth-state:{digest}", 1, timeout=int(STATE_TTL.total_seconds())):
        raise StateRefused("reused")
    if timezone.now().timestamp() - entry["at"] > STATE_TTL.total_seconds():
        raise StateRefused("expired")
    return PendingConnect(reconnect_account_id=entry.get("reconnect"))


def oauth_authorize_url(*, state: str) -> str:
    """Where the connect button sends the admin (the contract's parameters)."""
    query = urlencode(
        {
            "client_id": settings.INSTAGRAM_CLIENT_ID,
            "redirect_uri": settings.INSTAGRAM_REDIRECT_URI,
            "scope": settings.INSTAGRAM_OAUTH_SCOPES,
            "response_type": "code",
            "state": state,
        }
    )
    separator = "&" if "?" in settings.INSTAGRAM_OAUTH_AUTHORIZE_URL else "?"
    return f"{settings.INSTAGRAM_OAUTH_AUTHORIZE_URL}{separator}{query}"


def oauth_refusal_text(*, error: str, reason: str, description: str) -> str:
    """Meta's refusal (`error=access_denied&error_reason=user_denied&...`) in words."""
    if error == "access_denied":
        text = "Instagram did not connect the account: the permissions were declined."
    else:
        text = "Instagram did not connect the account."
    detail = ", ".join(part for part in (error, reason) if part)
    if description:
        detail = f"{detail}: {description}" if detail else description
    return f"{text} ({redact(detail)[:300]})" if detail else text


# --- the connect flow -------------------------------------------------------------------
class ConnectFailed(Exception):
    """One step of the connect flow failed; nothing was saved."""

    STEPS = {
        "exchange": "exchanging the authorization code",
        "long_lived_token": "getting a long-lived token",
        "profile": "reading the account's profile (/me)",
        "webhook_subscription": "subscribing the account to webhooks",
    }

    def __init__(self, step: str, detail: str) -> None:
        self.step = step
        self.detail = redact(detail)[:300]
        super().__init__(f"Connecting failed while {self.STEPS[step]}: {self.detail}")


@dataclass(frozen=True)
class ConnectResult:
    account: InstagramAccount
    created: bool


def oauth_code_clean(code: str) -> str:
    """Meta appends `#_` to the code; it is not part of it."""
    code = code.strip()
    return code[:-2] if code.endswith("#_") else code


def account_connect(*, code: str, now: datetime | None = None) -> ConnectResult:
    """Turn an authorization code into a connected account (created, or updated when it is
    already known: a reconnect keeps the same row and its history)."""
    exchanged = _step(
        "exchange",
        lambda: graph_client().exchange_code(
            token_url=settings.INSTAGRAM_OAUTH_TOKEN_URL,
            client_id=settings.INSTAGRAM_CLIENT_ID,
            client_secret=settings.INSTAGRAM_CLIENT_SECRET,
            redirect_uri=settings.INSTAGRAM_REDIRECT_URI,
            code=oauth_code_clean(code),
        ),
    )
    if not exchanged.access_token:
        raise _missing("exchange", "access_token")
    long_lived = _step(
        "long_lived_token",
        lambda: graph_client(token=exchanged.access_token).exchange_long_lived_token(
            client_secret=settings.INSTAGRAM_CLIENT_SECRET
        ),
    )
    if not long_lived.access_token:
        raise _missing("long_lived_token", "access_token")
    client = graph_client(token=long_lived.access_token)
    me = _step("profile", client.get_me)
    if not me.user_id:
        raise _missing("profile", "user_id")
    if not _step("webhook_subscription", client.subscribe_app):
        raise ConnectFailed("webhook_subscription", "Meta answered success: false.")

    now = now or timezone.now()
    account, created = InstagramAccount.objects.update_or_create(
        ig_id=me.user_id,
        defaults={
            "username": me.username,
            "name": me.name,
            "profile_picture_url": me.profile_picture_url,
            "graph_api_url": settings.INSTAGRAM_GRAPH_API_URL,
            "token_ciphertext": encrypt_token(long_lived.access_token),
            "token_expires_at": long_lived.expires_at(now=now),
            "token_refreshed_at": now,
            "source": InstagramAccount.Source.OAUTH,
            "status": InstagramAccount.Status.ACTIVE,
            "status_reason": "",
        },
    )
    logger.info(
        "account %s (@%s) %s by Instagram Login",
        account.ig_id,
        account.username,
        "connected" if created else "reconnected",
    )
    return ConnectResult(account=account, created=created)


def _step(step: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except GraphError as e:
        logger.warning("connect failed at %s: %s (%s)", step, type(e).__name__, e.code_label)
        raise ConnectFailed(step, f"{e.message} ({e.code_label})") from None


def _missing(step: str, field: str) -> ConnectFailed:
    logger.warning("connect failed at %s: no %s in Meta's answer", step, field)
    return ConnectFailed(step, f"Meta's answer had no {field}.")
