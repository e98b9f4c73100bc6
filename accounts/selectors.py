"""Read queries for the accounts page, the admins' banner and the alert emails."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.timesince import timesince

from .models import InstagramAccount

# How long the banner tells admins that Meta refused an account's human agent tag.
HUMAN_AGENT_ALERT_DAYS = 7


@dataclass(frozen=True)
class AccountAlert:
    account: InstagramAccount
    # "needs_reconnect" | "expiring" | "expired" | "subscription" | "silent" | "human_agent"
    kind: str
    text: str
    action: str = "Reconnect"  # the words of the link to the accounts page


def silence_cutoff(*, now: datetime) -> datetime:
    return now - timedelta(days=settings.ACCOUNTS_WEBHOOK_SILENCE_DAYS)


def _silent_q(*, now: datetime) -> Q:
    """Active and no webhook since the cutoff (never: counted from when it was added)."""
    cutoff = silence_cutoff(now=now)
    return Q(status=InstagramAccount.Status.ACTIVE) & (
        Q(last_webhook_at__lt=cutoff) | Q(last_webhook_at__isnull=True, created_at__lt=cutoff)
    )


def _subscription_incomplete_q() -> Q:
    """OAuth accounts the daily check could not bring to a complete subscription (an
    environment account's subscription is its gateway's: shown on the page, not alerted)."""
    return Q(status=InstagramAccount.Status.ACTIVE, source=InstagramAccount.Source.OAUTH) & ~Q(
        subscription_problem=""
    )


def accounts_webhooks_unhealthy(*, now: datetime) -> QuerySet[InstagramAccount]:
    """Accounts whose webhooks need an admin: silent too long, or subscription incomplete."""
    return InstagramAccount.objects.filter(
        _silent_q(now=now) | _subscription_incomplete_q()
    ).order_by("username", "ig_id")


def accounts_needing_attention(*, now: datetime) -> QuerySet[InstagramAccount]:
    """Accounts that need reconnecting, OAuth tokens close to expiry (a successful refresh
    pushes expiry 60 days out, so a token this close was not refreshed), and accounts whose
    webhooks stopped or whose subscription is incomplete."""
    warning = now + timedelta(days=settings.ACCOUNTS_TOKEN_WARNING_DAYS)
    return InstagramAccount.objects.filter(
        Q(status=InstagramAccount.Status.NEEDS_RECONNECT)
        | Q(
            status=InstagramAccount.Status.ACTIVE,
            source=InstagramAccount.Source.OAUTH,
            token_expires_at__lte=warning,
        )
        | _silent_q(now=now)
        | _subscription_incomplete_q()
    ).order_by("username", "ig_id")


def account_alerts(*, now: datetime | None = None) -> list[AccountAlert]:
    now = now or timezone.now()
    alerts = []
    for account in accounts_needing_attention(now=now):
        alerts.extend(_token_alerts(account, now=now))
        alerts.extend(webhook_alerts(account, now=now))
    return alerts + human_agent_alerts(now=now)


def account_alerts_version(alerts: list[AccountAlert]) -> str:
    """What the live banner compares: the alerts' accounts, kinds and words."""
    text = "|".join(f"{a.account.pk}:{a.kind}:{a.text}" for a in alerts)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


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


def _token_alerts(account: InstagramAccount, *, now: datetime) -> list[AccountAlert]:
    if account.status == InstagramAccount.Status.NEEDS_RECONNECT:
        reason = account.status_reason or "Meta refused its token."
        return [AccountAlert(account, "needs_reconnect", f"needs reconnecting: {reason}")]
    if (
        account.status != InstagramAccount.Status.ACTIVE
        or account.source != InstagramAccount.Source.OAUTH
        or account.token_expires_at is None
    ):
        return []
    if account.token_expires_at <= now:
        return [AccountAlert(account, "expired", "its token has expired: reconnect it.")]
    if account.token_expires_at <= now + timedelta(days=settings.ACCOUNTS_TOKEN_WARNING_DAYS):
        expiry = expiry_text(account.token_expires_at, now=now)
        text = f"its token {expiry} and could not be refreshed."
        return [AccountAlert(account, "expiring", text)]
    return []


def webhook_alerts(account: InstagramAccount, *, now: datetime) -> list[AccountAlert]:
    """What an admin must know about this account's webhooks (the banner and the email)."""
    if account.status != InstagramAccount.Status.ACTIVE:
        return []
    alerts = []
    if account.source == InstagramAccount.Source.OAUTH and account.subscription_problem:
        text = f"may miss messages: {account.subscription_problem}"
        alerts.append(AccountAlert(account, "subscription", text, action="Check it"))
    heard = account.last_webhook_at or account.created_at
    if heard < silence_cutoff(now=now):
        text = f"has received no webhook {_since(account.last_webhook_at, now=now)}."
        alerts.append(AccountAlert(account, "silent", text, action="Check it"))
    return alerts


def _since(heard: datetime | None, *, now: datetime) -> str:
    if heard is None:
        return "since it was added"
    return f"for {timesince(heard, now)}"


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
    webhook_text: str  # when the last webhook came
    webhook_class: str
    subscription_text: str  # whether Meta delivers every field the product needs
    subscription_class: str


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
    webhook, webhook_css = _webhook_status(account, now=now)
    subscription, subscription_css = _subscription_status(account)
    return AccountRow(
        account=account,
        status_text=status,
        status_class=css,
        # An environment account is set by the environment; OAuth can take any account over.
        can_reconnect=is_oauth or account.status != InstagramAccount.Status.ACTIVE,
        can_disconnect=account.status != InstagramAccount.Status.DISCONNECTED,
        webhook_text=webhook,
        webhook_class=webhook_css,
        subscription_text=subscription,
        subscription_class=subscription_css,
    )


def _webhook_status(account: InstagramAccount, *, now: datetime) -> tuple[str, str]:
    silent = (account.last_webhook_at or account.created_at) < silence_cutoff(now=now)
    css = "warn" if silent and account.status == InstagramAccount.Status.ACTIVE else "ok"
    if account.last_webhook_at is None:
        return "None received yet", "warn" if css == "warn" else "off"
    if now - account.last_webhook_at < timedelta(minutes=2):
        return "Just now", css  # noted to the minute: "0 minutes ago" would mislead
    return f"{timesince(account.last_webhook_at, now)} ago", css


def _subscription_status(account: InstagramAccount) -> tuple[str, str]:
    if account.subscription_checked_at is None:
        return "Not checked yet (checked daily)", "off"
    if account.subscription_problem:
        is_oauth = account.source == InstagramAccount.Source.OAUTH
        return account.subscription_problem, "bad" if is_oauth else "warn"
    return "Complete: every field the inbox needs", "ok"


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
