"""Services for agents and connected accounts."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from instagram.client import GraphClient

from .models import InstagramAccount

logger = logging.getLogger(__name__)


@transaction.atomic
def agent_upsert(
    *,
    username: str,
    password: str | None,
    account_ig_ids: Sequence[str] = (),
    is_admin: bool = False,
) -> tuple[User, bool]:
    """Create or update an agent. Admins see every account and may connect accounts."""
    accounts = list(InstagramAccount.objects.filter(ig_id__in=account_ig_ids))
    missing = set(account_ig_ids) - {a.ig_id for a in accounts}
    if missing:
        raise ValueError(f"No connected account with id {', '.join(sorted(missing))}.")
    user, created = User.objects.get_or_create(username=username)
    if created and not password:
        raise ValueError("A new agent needs --password.")
    if password:
        user.set_password(password)
    user.is_active = True
    if is_admin:
        user.is_superuser = user.is_staff = True
    user.save()
    if accounts:
        user.instagram_accounts.add(*accounts)
    return user, created


def account_graph_client(account: InstagramAccount) -> GraphClient:
    """The Graph API client for one account: its own base URL (Meta or a gateway) and token."""
    return GraphClient(
        base_url=account.graph_api_url,
        token=account.access_token,
        timeout=settings.INSTAGRAM_HTTP_TIMEOUT,
    )


def account_mark_needs_reconnect(*, account_id: int, reason: str) -> bool:
    """Meta said the token is dead (code 190): stop sends until an admin reconnects.

    Webhooks for the account keep being ingested. Returns True when this call changed the
    status (so the caller notifies admins once, not on every failing call).
    """
    changed = InstagramAccount.objects.filter(
        pk=account_id, status=InstagramAccount.Status.ACTIVE
    ).update(status=InstagramAccount.Status.NEEDS_RECONNECT, status_reason=reason[:500])
    if changed:
        logger.warning("account %s needs reconnect: %s", account_id, reason[:200])
    return bool(changed)
