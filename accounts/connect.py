"""Connecting an account with Instagram Login: the authorize URL the connect button sends the
admin to, and the callback's flow (code → short-lived → long-lived token → /me → webhook
subscription → one database write), told back as the notices of the accounts page.

Nothing is written to the database before every call to Meta has succeeded, so a failed
step never leaves a half-made account behind. The callback's `state` is checked before any
of this, in `oauth_state.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.messages import constants as levels
from django.db import transaction
from django.utils import timezone

from common.queueing import task_queue
from common.redact import redact
from instagram.errors import GraphError

from .crypto import encrypt_token
from .meta import account_reconnected, graph_client
from .models import InstagramAccount
from .oauth_state import PendingConnect

logger = logging.getLogger(__name__)

T = TypeVar("T")
# Queued by name: accounts never imports the inbox.
HISTORY_SYNC_TASK = "inbox.tasks.history_sync_task"

NOT_CONFIGURED_TEXT = (
    "Instagram Login is not configured: set INSTAGRAM_CLIENT_ID and "
    "INSTAGRAM_CLIENT_SECRET (the Meta app's Instagram app id and secret)."
)


def oauth_configured() -> bool:
    """Instagram Login needs the Meta app's Instagram app id and secret."""
    return bool(settings.INSTAGRAM_CLIENT_ID and settings.INSTAGRAM_CLIENT_SECRET)


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


# --- the callback -----------------------------------------------------------------------
@dataclass(frozen=True)
class Notice:
    """One line for the accounts page: a level of `django.contrib.messages`, and its text."""

    level: int
    text: str


def oauth_callback_finish(*, query: Mapping[str, str], pending: PendingConnect) -> list[Notice]:
    """The callback once its state checked out: Meta's refusal, a missing code, a failed
    step, or the connected account (and a word when it is not the one the admin meant)."""
    if query.get("error"):
        refusal = oauth_refusal_text(
            error=query.get("error", ""),
            reason=query.get("error_reason", ""),
            description=query.get("error_description", ""),
        )
        return [Notice(levels.ERROR, refusal)]
    code = query.get("code", "")
    if not code:
        return [
            Notice(levels.ERROR, "Instagram sent no authorization code back: please try again.")
        ]
    try:
        result = account_connect(code=code)
    except ConnectFailed as failure:
        return [Notice(levels.ERROR, f"{failure} Nothing was saved; please try again.")]
    account = result.account
    verb = "connected" if result.created else "reconnected"
    notices = [
        Notice(levels.SUCCESS, f"{account} is {verb}. Its messages now arrive in the inbox.")
    ]
    wanted = _other_account_meant(pending=pending, connected=account)
    if wanted:
        notices.append(
            Notice(
                levels.WARNING,
                f"You meant to reconnect {wanted}, but Instagram signed in as {account}. "
                f"To reconnect {wanted}, log in to Instagram as it and reconnect again.",
            )
        )
    return notices


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


def _other_account_meant(
    *, pending: PendingConnect, connected: InstagramAccount
) -> InstagramAccount | None:
    """The account the admin clicked "reconnect" on, when Instagram signed in as another."""
    wanted_id = pending.reconnect_account_id
    if not wanted_id or wanted_id == connected.pk:
        return None
    return InstagramAccount.objects.filter(pk=wanted_id).first()


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


def oauth_code_clean(*, code: str) -> str:
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
            code=oauth_code_clean(code=code),
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
    # Customers who wrote before go-live (or during a lapse) appear once their history is read.
    transaction.on_commit(lambda: task_queue(HISTORY_SYNC_TASK, account.pk))
    if not created:
        account_reconnected(account_id=account.pk)
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
