"""Read queries for the accounts page, the admins' banner and the alert emails."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from .models import InstagramAccount

# How long the banner tells admins that Meta refused an account's human agent tag.
HUMAN_AGENT_ALERT_DAYS = 7


@dataclass(frozen=True)
class AccountAlert:
    account: InstagramAccount
    kind: str  # "needs_reconnect" | "expiring" | "expired" | "human_agent"
    text: str
    action: str = "Reconnect"  # the words of the link to the accounts page


def accounts_needing_attention(*, now: datetime) -> QuerySet[InstagramAccount]:
    """Accounts that need reconnecting, and OAuth tokens close to expiry: a successful
    refresh pushes expiry 60 days out, so a token this close was not refreshed."""
    warning = now + timedelta(days=settings.ACCOUNTS_TOKEN_WARNING_DAYS)
    return InstagramAccount.objects.filter(
        Q(status=InstagramAccount.Status.NEEDS_RECONNECT)
        | Q(
            status=InstagramAccount.Status.ACTIVE,
            source=InstagramAccount.Source.OAUTH,
            token_expires_at__lte=warning,
        )
    ).order_by("username", "ig_id")


def account_alerts(*, now: datetime | None = None) -> list[AccountAlert]:
    now = now or timezone.now()
    alerts = []
    for account in accounts_needing_attention(now=now):
        if account.status == InstagramAccount.Status.NEEDS_RECONNECT:
            reason = account.status_reason or "Meta refused its token."
            alerts.append(AccountAlert(account, "needs_reconnect", f"needs reconnecting: {reason}"))
        elif account.token_expires_at and account.token_expires_at <= now:
            alerts.append(AccountAlert(account, "expired", "its token has expired: reconnect it."))
        else:
            expiry = expiry_text(account.token_expires_at, now=now)
            text = f"its token {expiry} and could not be refreshed."
            alerts.append(AccountAlert(account, "expiring", text))
    return alerts + human_agent_alerts(now=now)


def human_agent_alerts(*, now: datetime) -> list[AccountAlert]:
    """Accounts whose human agent tag was turned off because Meta refused it, lately."""
    since = now - timedelta(days=HUMAN_AGENT_ALERT_DAYS)
    accounts = InstagramAccount.objects.filter(
        human_agent_enabled=False, human_agent_refused_at__gte=since
    ).order_by("username", "ig_id")
    text = (
        "lost its human agent tag: Instagram refused it because the Meta app lacks the Human "
        "Agent feature, so replies past 24 hours are off. Request the feature in App Review, "
        "then turn the tag back on."
    )
    return [
        AccountAlert(account, "human_agent", text, "Human agent setting") for account in accounts
    ]


def expiry_text(expires_at: datetime | None, *, now: datetime) -> str:
    """ "expires in 12 days", "expires in 5 hours", "expired"."""
    if expires_at is None:
        return "has no known expiry"
    remaining = expires_at - now
    if remaining <= timedelta(0):
        return "expired"
    if remaining < timedelta(days=1):
        hours = max(1, math.ceil(remaining.total_seconds() / 3600))
        return f"expires in {hours} hour{'s' if hours != 1 else ''}"
    days = remaining.days
    return f"expires in {days} day{'s' if days != 1 else ''}"


def agents_selectable() -> QuerySet[User]:
    """Users who can be made members of an account (admins already see every account)."""
    return User.objects.filter(is_active=True, is_superuser=False).order_by("username")


@dataclass(frozen=True)
class AccountRow:
    account: InstagramAccount
    status_text: str
    status_class: str  # for the badge's colour: ok | warn | bad | off
    can_reconnect: bool
    can_disconnect: bool


def account_rows(*, now: datetime | None = None) -> list[AccountRow]:
    """Every account, with its status in words, for the accounts page."""
    now = now or timezone.now()
    accounts = InstagramAccount.objects.prefetch_related(
        Prefetch("members", queryset=_members_queryset())
    ).order_by("username", "ig_id")
    return [_row(account, now=now) for account in accounts]


def _members_queryset() -> QuerySet[User]:
    return User.objects.order_by("username")


def _row(account: InstagramAccount, *, now: datetime) -> AccountRow:
    status, css = _status(account, now=now)
    is_oauth = account.source == InstagramAccount.Source.OAUTH
    return AccountRow(
        account=account,
        status_text=status,
        status_class=css,
        # An environment account is set by the environment; OAuth can take any account over.
        can_reconnect=is_oauth or account.status != InstagramAccount.Status.ACTIVE,
        can_disconnect=account.status != InstagramAccount.Status.DISCONNECTED,
    )


def _status(account: InstagramAccount, *, now: datetime) -> tuple[str, str]:
    Status = InstagramAccount.Status
    if account.status == Status.DISCONNECTED:
        return "Disconnected", "off"
    if account.status == Status.NEEDS_RECONNECT:
        return f"Needs reconnect: {account.status_reason or 'Meta refused the token.'}", "bad"
    if account.source == InstagramAccount.Source.ENV:
        return "Active · token from the environment (not refreshed here)", "ok"
    expiry = expiry_text(account.token_expires_at, now=now)
    if account.token_expires_at and account.token_expires_at <= now:
        return "Token expired: reconnect", "bad"
    warning = timedelta(days=settings.ACCOUNTS_TOKEN_WARNING_DAYS)
    if account.token_expires_at and account.token_expires_at - now <= warning:
        return f"Active · token {expiry}, not refreshed yet", "warn"
    return f"Active · token {expiry}", "ok"
