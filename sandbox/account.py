"""The sandbox's Instagram account: created when the sandbox is on, retired when it is off.

Its Graph base URL points at the fake Graph views of this same app, so every real Graph call
the product makes for it (sends, profiles, /me) is answered by `sandbox.fake_meta`.
"""

from __future__ import annotations

from django.conf import settings

from accounts.meta import account_reconnected
from accounts.models import InstagramAccount

GRAPH_VERSION = "v24.0"


def sandbox_graph_url() -> str:
    return f"{settings.SITE_URL}/sandbox/graph/{GRAPH_VERSION}"


def sandbox_account_sync() -> InstagramAccount | None:
    """Create or update the sandbox account when the sandbox is on; retire it when off."""
    accounts = InstagramAccount.objects.filter(ig_id=settings.SANDBOX_ACCOUNT_ID)
    if not settings.SANDBOX_ENABLED:
        accounts.exclude(status=InstagramAccount.Status.DISCONNECTED).update(
            status=InstagramAccount.Status.DISCONNECTED,
            status_reason="The sandbox is off.",
            token_ciphertext="",
        )
        return None
    account, _ = InstagramAccount.objects.get_or_create(
        ig_id=settings.SANDBOX_ACCOUNT_ID,
        defaults={"graph_api_url": sandbox_graph_url()},
    )
    account.username = "sandbox_shop"
    account.name = "Sandbox Shop"
    account.graph_api_url = sandbox_graph_url()
    account.source = InstagramAccount.Source.ENV
    account.status = InstagramAccount.Status.ACTIVE
    account.status_reason = ""
    account.access_token = settings.SANDBOX_ACCESS_TOKEN
    account.save()
    return account


def sandbox_account_restore() -> None:
    """What reconnecting does for a real account: the token works again, and the replies
    that waited for it go out."""
    account = sandbox_account_sync()
    if account is not None:
        account_reconnected(account_id=account.pk)
