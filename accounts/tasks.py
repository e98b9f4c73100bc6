"""Celery tasks of the accounts app: thin wrappers over services."""

from __future__ import annotations

import logging
from collections import Counter

from celery import shared_task

from .notifications import account_human_agent_alert_send, account_reconnect_alert_send
from .refresh import tokens_refresh
from .webhook_health import webhook_health_check

logger = logging.getLogger(__name__)


@shared_task(name="accounts.tasks.tokens_refresh_task")
def tokens_refresh_task() -> dict[str, int]:
    """The daily refresh (beat: `refresh-tokens-daily`). Failed accounts are retried by
    the next day's run, not by Celery: the horizon leaves weeks of daily attempts."""
    results = tokens_refresh()
    counts = Counter(str(result.outcome) for result in results)
    logger.info("token refresh: %s", dict(counts) or "nothing due")
    return dict(counts)


@shared_task(name="accounts.tasks.account_reconnect_alert_task")
def account_reconnect_alert_task(account_id: int) -> None:
    account_reconnect_alert_send(account_id=account_id)


@shared_task(name="accounts.tasks.webhook_health_check_task")
def webhook_health_check_task() -> dict[str, int]:
    """The daily webhook check (beat: `webhook-health-daily`): subscriptions read and
    completed, admins told what could not be fixed and which accounts are silent."""
    counts = Counter(str(result.outcome) for result in webhook_health_check())
    logger.info("webhook health: %s", dict(counts) or "no active account")
    return dict(counts)


@shared_task(name="accounts.tasks.account_human_agent_alert_task")
def account_human_agent_alert_task(account_id: int) -> None:
    account_human_agent_alert_send(account_id=account_id)
