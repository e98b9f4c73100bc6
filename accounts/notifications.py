"""Emails to admins about accounts that need them. Sent only when EMAIL_URL is set; the
banner in the inbox shows the same alerts either way. Never a token in a mail."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail

from .models import InstagramAccount
from .selectors import accounts_webhooks_unhealthy, expiry_text, webhook_alerts

logger = logging.getLogger(__name__)


def admin_emails() -> list[str]:
    admins = get_user_model().objects.filter(is_active=True, is_superuser=True)
    return sorted({email for email in admins.values_list("email", flat=True) if email})


def admins_email(*, subject: str, body: str) -> int:
    """Mail every admin with an address. Returns how many were sent (0: none configured)."""
    if not settings.ACCOUNTS_ALERT_EMAILS:
        return 0
    recipients = admin_emails()
    if not recipients:
        logger.info("no admin has an email address: alert not mailed")
        return 0
    try:
        return send_mail(
            f"[Instagram inbox] {subject}",
            body,
            settings.DEFAULT_FROM_EMAIL,
            recipients,
        )
    except Exception as e:  # a mail server down must not break a refresh or a send
        logger.warning("alert email failed: %s", type(e).__name__)
        return 0


def accounts_page_url() -> str:
    return f"{settings.SITE_URL}/accounts/"


def account_reconnect_alert_send(*, account_id: int) -> int:
    account = InstagramAccount.objects.filter(pk=account_id).first()
    if account is None or account.status != InstagramAccount.Status.NEEDS_RECONNECT:
        return 0
    body = (
        f"The Instagram account {account} ({account.ig_id}) needs reconnecting.\n\n"
        f"Reason: {account.status_reason or 'Meta refused its token.'}\n\n"
        "Replies to its conversations cannot be sent until an admin reconnects it; "
        "incoming messages keep arriving.\n\n"
        f"Reconnect it here: {accounts_page_url()}\n"
    )
    return admins_email(subject=f"{account} needs reconnecting", body=body)


def account_human_agent_alert_send(*, account_id: int) -> int:
    account = InstagramAccount.objects.filter(pk=account_id).first()
    if account is None or account.human_agent_enabled or account.human_agent_refused_at is None:
        return 0  # gone, or an admin already turned the tag back on
    body = (
        f"Instagram refused a reply of the account {account} ({account.ig_id}) sent with the "
        "human agent tag: the Meta app lacks Meta's Human Agent feature.\n\n"
        "The account's human agent tag has been turned off, so replies more than 24 hours "
        "after a customer's last message are not sent; replies within 24 hours still are.\n\n"
        "To answer up to 7 days, request the Human Agent feature in the Meta app's App "
        "Review, then turn the tag back on here: "
        f"{accounts_page_url()}\n"
    )
    return admins_email(subject=f"{account}: Instagram refused the human agent tag", body=body)


def tokens_expiring_alert_send(*, now: datetime) -> int:
    """One mail listing OAuth tokens within the warning period that are still active."""
    if not settings.ACCOUNTS_ALERT_EMAILS:
        return 0
    warning = now + timedelta(days=settings.ACCOUNTS_TOKEN_WARNING_DAYS)
    accounts = list(
        InstagramAccount.objects.filter(
            source=InstagramAccount.Source.OAUTH,
            status=InstagramAccount.Status.ACTIVE,
            token_expires_at__gt=now,
            token_expires_at__lte=warning,
        ).order_by("token_expires_at")
    )
    if not accounts:
        return 0
    lines = "\n".join(
        f"- {a} ({a.ig_id}): token {expiry_text(a.token_expires_at, now=now)}" for a in accounts
    )
    body = (
        "These Instagram accounts' tokens could not be refreshed and expire soon:\n\n"
        f"{lines}\n\nReconnect them before they expire: {accounts_page_url()}\n"
    )
    return admins_email(subject="Instagram tokens expire soon", body=body)


def webhook_health_alert_send(*, now: datetime) -> int:
    """One mail (from the daily check) listing accounts that may be missing messages:
    subscriptions the check could not complete, and accounts silent for too long."""
    if not settings.ACCOUNTS_ALERT_EMAILS:
        return 0
    alerts = [
        alert
        for account in accounts_webhooks_unhealthy(now=now)
        for alert in webhook_alerts(account, now=now)
    ]
    if not alerts:
        return 0
    lines = "\n".join(f"- {a.account} ({a.account.ig_id}) {a.text}" for a in alerts)
    body = (
        "Meta may not be delivering every message to these Instagram accounts:\n\n"
        f"{lines}\n\n"
        "Customers' messages that Meta does not deliver never reach the inbox. Check the "
        "accounts (reconnecting an account subscribes it again), and Meta's app dashboard "
        f"for webhook errors: {accounts_page_url()}\n"
    )
    return admins_email(subject="Instagram webhooks need a look", body=body)
