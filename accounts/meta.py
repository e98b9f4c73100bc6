"""The one door for calls to Meta: the Graph client for an account, and what a refused token
means for that account.

Every module that calls Meta gets its client here (`graph_client`, or `account_call` for an
account's own calls), so the base URL, the token and the timeout are chosen in one place.
`account_call` also turns Meta's "this token is dead" (an `AuthError`, code 190) into the
account's state: sends stop, the admins are told once, and the caller still sees the error
to settle its own work (a reply waits, a profile records why).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.queueing import task_queue
from common.redact import redact
from instagram.client import GraphClient
from instagram.errors import AuthError

from .models import InstagramAccount

logger = logging.getLogger(__name__)

RECONNECT_ALERT_TASK = "accounts.tasks.account_reconnect_alert_task"
HUMAN_AGENT_ALERT_TASK = "accounts.tasks.account_human_agent_alert_task"
# The inbox's replies held while the account needed reconnecting (inbox/outbound/release.py).
REPLIES_RELEASE_TASK = "inbox.tasks.account_replies_release_task"


def graph_client(*, base_url: str = "", token: str = "") -> GraphClient:
    """A Graph API client with the configured timeout (default base: `INSTAGRAM_GRAPH_API_URL`),
    for calls made before an account exists (the connect flow)."""
    return GraphClient(
        base_url=base_url or settings.INSTAGRAM_GRAPH_API_URL,
        token=token,
        timeout=settings.INSTAGRAM_HTTP_TIMEOUT,
    )


def account_graph_client(account: InstagramAccount) -> GraphClient:
    """The client for one account: its own base URL (Meta or a gateway) and token."""
    return graph_client(base_url=account.graph_api_url, token=account.access_token)


@contextmanager
def account_call(account: InstagramAccount, *, doing: str) -> Iterator[GraphClient]:
    """Calls to Meta on this account's behalf (`doing`: "sending a reply", for its status).
    A refused token marks the account as needing reconnection, then the error goes on."""
    try:
        yield account_graph_client(account)
    except AuthError as error:
        reason = f"Instagram refused the token while {doing}: {error.message} ({error.code_label})"
        account_mark_needs_reconnect(account_id=account.pk, reason=redact(reason))
        raise


def account_mark_needs_reconnect(*, account_id: int, reason: str) -> bool:
    """Meta said the token is dead (or it expired): stop sends until an admin reconnects.

    Webhooks for the account keep being ingested. Returns True when this call changed the
    status, and then (once committed) queues the admins' email: once, not on every failing
    call.
    """
    changed = InstagramAccount.objects.filter(
        pk=account_id, status=InstagramAccount.Status.ACTIVE
    ).update(status=InstagramAccount.Status.NEEDS_RECONNECT, status_reason=reason[:500])
    if changed:
        logger.warning("account %s needs reconnect: %s", account_id, redact(reason[:200]))
        transaction.on_commit(lambda: _queue_alert(RECONNECT_ALERT_TASK, account_id))
    return bool(changed)


def account_reconnected(*, account_id: int) -> None:
    """The account can send again (reconnected, or its token restored): once committed, its
    held replies go out at once rather than at the next sweep."""
    transaction.on_commit(lambda: task_queue(REPLIES_RELEASE_TASK, account_id))


def _queue_alert(task: str, account_id: int) -> None:
    # A broker outage loses only the email: the banner still tells the admins.
    if settings.ACCOUNTS_ALERT_EMAILS:
        task_queue(task, account_id)


def account_human_agent_refused(*, account_id: int) -> bool:
    """Meta refused a HUMAN_AGENT-tagged reply because the app lacks the Human Agent
    feature: turn the account's switch off, so replies past 24 hours are refused here with
    a reason rather than sent to be refused, and tell the admins (banner; email once, when
    this call changed the switch). Returns True when it did."""
    changed = InstagramAccount.objects.filter(pk=account_id, human_agent_enabled=True).update(
        human_agent_enabled=False, human_agent_refused_at=timezone.now()
    )
    if changed:
        logger.warning(
            "account %s: Meta refused the human agent tag; switch turned off", account_id
        )
        transaction.on_commit(lambda: _queue_alert(HUMAN_AGENT_ALERT_TASK, account_id))
    return bool(changed)
