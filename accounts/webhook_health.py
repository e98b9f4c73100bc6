"""Webhook health: when each account last heard from Meta, and whether Meta's subscription
still covers every field the product needs.

Meta stops delivering without a word (a subscription lost in a reconnect, a field dropped,
an app setting changed), and the first sign is a customer saying "you never answered". So
the intake worker notes when each account last got a webhook (`account_webhooks_heard`,
cheap enough for a burst), and a daily job (`webhook_health_check`) reads
`GET /me/subscribed_apps` for each active account, subscribes again what is missing, and
tells the admins what it could not fix and which accounts have heard nothing for too long.

Environment accounts are read but never re-subscribed: a gateway's subscription is the
gateway's business, and it may not answer `subscribed_apps` at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone

from instagram.client import GraphClient, subscription_missing
from instagram.errors import GraphError, RateLimitedError, TransientError

from .meta import account_call, account_graph_client
from .models import InstagramAccount
from .notifications import webhook_health_alert_send

logger = logging.getLogger(__name__)

# `last_webhook_at` is kept to the minute: a burst costs one UPDATE per account a minute.
HEARD_RESOLUTION = timedelta(minutes=1)


def account_webhooks_heard(*, accounts: Iterable[InstagramAccount], now: datetime) -> int:
    """Note that these accounts just got webhooks. The accounts were loaded by the worker
    anyway, so an account noted within the last minute costs no statement at all; the
    others cost one conditional UPDATE together. Returns how many rows it changed.

    Never raises: a health note is not worth failing the intake of an event for."""
    cutoff = now - HEARD_RESOLUTION
    stale = [a for a in accounts if a.last_webhook_at is None or a.last_webhook_at < cutoff]
    if not stale:
        return 0
    try:
        changed = (
            InstagramAccount.objects.filter(pk__in=[a.pk for a in stale])
            # Conditional: another worker may have noted it a moment ago.
            .filter(Q(last_webhook_at__isnull=True) | Q(last_webhook_at__lt=cutoff))
            .update(last_webhook_at=now)
        )
    except DatabaseError as e:
        logger.warning("last webhook time not recorded: %s", type(e).__name__)
        return 0
    for account in stale:
        account.last_webhook_at = now
    return changed


class CheckOutcome(StrEnum):
    COMPLETE = "complete"
    RESUBSCRIBED = "resubscribed"
    INCOMPLETE = "incomplete"  # missing fields we could not (or may not) subscribe again
    UNREADABLE = "unreadable"  # Meta refused the read: recorded as the problem
    RETRY_LATER = "retry later"  # transient: nothing recorded, tomorrow's run tries again


@dataclass(frozen=True)
class CheckResult:
    account_id: int
    outcome: CheckOutcome
    detail: str = ""


def webhook_health_check(*, now: datetime | None = None) -> list[CheckResult]:
    """The daily job: check every active account's subscription, then mail the admins
    what needs them (subscriptions we could not complete, accounts silent too long)."""
    now = now or timezone.now()
    accounts = InstagramAccount.objects.filter(status=InstagramAccount.Status.ACTIVE).exclude(
        token_ciphertext=""
    )
    results = [account_subscription_check(account=account, now=now) for account in accounts]
    webhook_health_alert_send(now=now)
    return results


def account_subscription_check(*, account: InstagramAccount, now: datetime) -> CheckResult:
    """Read what Meta delivers for this account and, for an OAuth account, subscribe again
    the fields that are missing. Calls Meta with no transaction open; records the result."""
    is_env = account.source == InstagramAccount.Source.ENV
    try:
        if is_env:
            # Not `account_call`: a gateway refusing an optional read says nothing about
            # the token its sends use, and an environment account cannot be reconnected.
            fields, outcome = _read(account_graph_client(account), resubscribe=False)
        else:
            with account_call(account, doing="checking its webhook subscription") as client:
                fields, outcome = _read(client, resubscribe=True)
    except (TransientError, RateLimitedError) as e:
        logger.info("webhook subscription of account %s: retry later (%s)", account.pk, e)
        return CheckResult(account.pk, CheckOutcome.RETRY_LATER, e.code_label)
    except GraphError as e:
        problem = f"Meta refused to check or renew the subscription: {e.message} ({e.code_label})"
        _record(account, fields=None, problem=problem, now=now)
        return CheckResult(account.pk, CheckOutcome.UNREADABLE, problem)
    problem = _problem(fields, is_env=is_env) if outcome == CheckOutcome.INCOMPLETE else ""
    _record(account, fields=fields, problem=problem, now=now)
    logger.info("webhook subscription of account %s: %s", account.pk, outcome)
    return CheckResult(account.pk, outcome, problem)


def _read(client: GraphClient, *, resubscribe: bool) -> tuple[frozenset[str], CheckOutcome]:
    app_id = settings.INSTAGRAM_CLIENT_ID
    fields = client.get_subscribed_apps().fields_of(app_id=app_id)
    if not subscription_missing(fields):
        return fields, CheckOutcome.COMPLETE
    if not resubscribe:
        return fields, CheckOutcome.INCOMPLETE
    # POST replaces the list, so it names every field; then read again: Meta's "success"
    # does not say which spellings it kept.
    client.subscribe_app()
    fields = client.get_subscribed_apps().fields_of(app_id=app_id)
    if subscription_missing(fields):
        return fields, CheckOutcome.INCOMPLETE
    return fields, CheckOutcome.RESUBSCRIBED


def _problem(fields: frozenset[str], *, is_env: bool) -> str:
    missing = ", ".join(subscription_missing(fields))
    if is_env:
        return f"Meta lists no subscription to {missing} (set by the environment's gateway)."
    return f"Meta still lists no subscription to {missing} after subscribing again."


def _record(
    account: InstagramAccount, *, fields: frozenset[str] | None, problem: str, now: datetime
) -> None:
    values: dict[str, object] = {
        "subscription_checked_at": now,
        "subscription_problem": problem[:500],
    }
    if fields is not None:
        values["subscribed_fields"] = ",".join(sorted(fields))[:500]
    InstagramAccount.objects.filter(pk=account.pk).update(**values)
