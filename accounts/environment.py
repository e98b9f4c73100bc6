"""The account configured by environment variables, kept in step with them by `migrate`.

The sandbox pair (INSTAGRAM_API_URL + INSTAGRAM_ACCOUNT_ID) takes precedence over the own
account pair (INSTAGRAM_GRAPH_API_URL + INSTAGRAM_USER_ID), each value on its own, the way
the gateway's starter kit reads them (`INSTAGRAM_API_URL ?? INSTAGRAM_GRAPH_API_URL`). The
token is INSTAGRAM_ACCESS_TOKEN: often a gateway's `hmat_...`, never refreshed here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from .crypto import decrypt_token
from .meta import account_reconnected
from .models import InstagramAccount

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnvAccountConfig:
    ig_id: str
    graph_api_url: str
    token: str


def env_account_config() -> EnvAccountConfig | None:
    """The environment's account, or None when the variables do not name one."""
    ig_id = settings.INSTAGRAM_ACCOUNT_ID or settings.INSTAGRAM_USER_ID
    base_url = settings.INSTAGRAM_API_URL or settings.INSTAGRAM_GRAPH_API_URL
    token = settings.INSTAGRAM_ACCESS_TOKEN
    if not (ig_id and base_url and token):
        return None
    return EnvAccountConfig(ig_id=ig_id.strip(), graph_api_url=base_url.rstrip("/"), token=token)


@dataclass(frozen=True)
class EnvSyncResult:
    account: InstagramAccount
    action: str  # "created" | "updated" | "unchanged"


@transaction.atomic
def env_account_sync() -> EnvSyncResult | None:
    """Create or update the environment's account (idempotent: run after every migrate).

    Another account previously configured by environment is disconnected: the environment
    now names a different one. Nothing happens when no account is configured, so a one-off
    `migrate` from a shell without the variables does not stop the live account.
    """
    config = env_account_config()
    if config is None:
        return None
    account = InstagramAccount.objects.select_for_update().filter(ig_id=config.ig_id).first()
    if account is None:
        account = InstagramAccount(ig_id=config.ig_id)
        action = "created"
    else:
        action = "unchanged"
    was_refused = account.status == InstagramAccount.Status.NEEDS_RECONNECT
    changed = _apply(account, config)
    if action == "created" or changed:
        account.save()
        action = "created" if action == "created" else "updated"
    if was_refused and account.status == InstagramAccount.Status.ACTIVE:
        account_reconnected(account_id=account.pk)
    InstagramAccount.objects.filter(source=InstagramAccount.Source.ENV).exclude(
        pk=account.pk
    ).exclude(ig_id=settings.SANDBOX_ACCOUNT_ID).exclude(  # the sandbox keeps its own
        status=InstagramAccount.Status.DISCONNECTED
    ).update(
        status=InstagramAccount.Status.DISCONNECTED,
        status_reason="No longer configured in the environment.",
        token_ciphertext="",
    )
    if action != "unchanged":
        logger.info("environment account %s %s (%s)", account.ig_id, action, account.graph_api_url)
    return EnvSyncResult(account=account, action=action)


def _apply(account: InstagramAccount, config: EnvAccountConfig) -> bool:
    """Copy the environment onto the row; True when anything changed."""
    same_token = bool(account.token_ciphertext) and _readable(account) == config.token
    wanted = {
        "graph_api_url": config.graph_api_url,
        "source": InstagramAccount.Source.ENV,
        "token_expires_at": None,
        "token_refreshed_at": None,
    }
    changed = not same_token
    for name, value in wanted.items():
        if getattr(account, name) != value:
            setattr(account, name, value)
            changed = True
    if not same_token:
        account.access_token = config.token
    # The same token Meta already refused stays "needs reconnect"; a new token, a new base
    # URL or an admin's disconnect are undone by the environment.
    keep_flag = account.status == InstagramAccount.Status.NEEDS_RECONNECT and not changed
    if not keep_flag and account.status != InstagramAccount.Status.ACTIVE:
        account.status, account.status_reason = InstagramAccount.Status.ACTIVE, ""
        changed = True
    return changed


def _readable(account: InstagramAccount) -> str | None:
    try:
        return decrypt_token(account.token_ciphertext)
    except ImproperlyConfigured:  # written under a key no longer configured: replace it
        return None
