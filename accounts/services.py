"""Services for agents and connected accounts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken
from django.contrib.auth.models import User
from django.db import transaction

from common.redact import redact
from instagram.errors import GraphError

from .crypto import rotate_ciphertext
from .meta import account_graph_client
from .models import InstagramAccount
from .selectors import agents_selectable

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


# --- the accounts page ------------------------------------------------------------------
@dataclass(frozen=True)
class DisconnectResult:
    account: InstagramAccount
    # Why Meta could not unsubscribe the webhooks ("" when it did, or was not asked).
    unsubscribe_error: str = ""
    unsubscribed: bool = False


def account_disconnect(*, account_id: int) -> DisconnectResult:
    """Stop working an account: unsubscribe its webhooks, wipe its token, keep its history.

    The unsubscribe call is made first, with no transaction open, and its failure does not
    block: the admin asked for the account to stop, and a dead token cannot unsubscribe.
    Environment accounts are not unsubscribed: we did not subscribe them (a gateway did).
    """
    account = InstagramAccount.objects.get(pk=account_id)
    unsubscribed, error = False, ""
    if account.source == InstagramAccount.Source.OAUTH and account.token_ciphertext:
        try:
            account_graph_client(account).unsubscribe_app()
            unsubscribed = True
        except GraphError as e:
            error = redact(f"{e.message} ({e.code_label})")[:300]
            logger.warning("unsubscribe of account %s failed: %s", account.pk, e.code_label)
    InstagramAccount.objects.filter(pk=account.pk).update(
        token_ciphertext="",
        token_expires_at=None,
        token_refreshed_at=None,
        status=InstagramAccount.Status.DISCONNECTED,
        status_reason="Disconnected by an admin.",
    )
    account.refresh_from_db()
    logger.info("account %s disconnected", account.pk)
    return DisconnectResult(account=account, unsubscribe_error=error, unsubscribed=unsubscribed)


def account_human_agent_set(*, account_id: int, enabled: bool) -> InstagramAccount:
    """The per-account switch for replies tagged HUMAN_AGENT (24 h to 7 days)."""
    account = InstagramAccount.objects.get(pk=account_id)
    account.human_agent_enabled = enabled
    account.save(update_fields=["human_agent_enabled", "updated_at"])
    return account


@transaction.atomic
def account_members_set(*, account_id: int, user_ids: Sequence[int]) -> InstagramAccount:
    """Exactly these agents may work the account's inbox. Members the form does not list
    (deactivated agents, admins) are left as they are."""
    account = InstagramAccount.objects.select_for_update().get(pk=account_id)
    selectable = agents_selectable()
    unlisted = account.members.exclude(pk__in=selectable.values("pk"))
    account.members.set([*selectable.filter(pk__in=user_ids), *unlisted])
    return account


# --- keys -------------------------------------------------------------------------------
@dataclass
class RotationResult:
    rotated: int = 0
    # Accounts whose token no configured key can read (ids, never tokens).
    unreadable: list[str] = field(default_factory=list)


def token_keys_rotate() -> RotationResult:
    """Re-encrypt every stored token under the newest key in TOKEN_ENCRYPTION_KEYS, after
    which older keys can be removed from the list."""
    result = RotationResult()
    rows = InstagramAccount.objects.exclude(token_ciphertext="").values_list(
        "pk", "ig_id", "token_ciphertext"
    )
    for pk, ig_id, ciphertext in rows.iterator():
        try:
            rotated = rotate_ciphertext(ciphertext)
        except InvalidToken:
            result.unreadable.append(ig_id)
            continue
        # Only if the token did not change meanwhile (a refresh or reconnect wins).
        result.rotated += InstagramAccount.objects.filter(
            pk=pk, token_ciphertext=ciphertext
        ).update(token_ciphertext=rotated)
    return result
