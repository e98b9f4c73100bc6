"""What an admin does to a connected account from the accounts page: disconnect it, switch
its human-agent replies, choose its members. (Connecting is in `connect.py`.)"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from common.redact import redact
from instagram.errors import GraphError

from .meta import account_graph_client
from .models import InstagramAccount
from .selectors import agents_selectable

logger = logging.getLogger(__name__)


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
    """The per-account switch for replies tagged HUMAN_AGENT (24 h to 7 days). An admin who
    sets it has seen Meta's refusal, if there was one: the banner about it goes."""
    account = InstagramAccount.objects.get(pk=account_id)
    account.human_agent_enabled = enabled
    account.human_agent_refused_at = None
    account.save(update_fields=["human_agent_enabled", "human_agent_refused_at", "updated_at"])
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
