"""Long-lived token refresh: one service run by the daily beat job and `refresh_tokens`.

Meta refreshes a long-lived token only when it is at least 24 hours old and not yet
expired, and a token not refreshed for 60 days dies. We refresh OAuth tokens expiring within
a horizon (30 days by default), so a failing refresh is retried daily for weeks before the
token dies. Environment tokens (a gateway's `hmat_...`) are never refreshed.

Two runs at once (beat and an operator's command, or two workers) must not both call Meta
for one account, nor write an older answer over a newer token. Each account is claimed with
a conditional UPDATE that moves `token_refreshed_at` to now: the same row is then no longer
"at least 24 hours old", so no other run selects or claims it. The call to Meta is made with
no transaction open, and the result is written only if the row still holds the token and
claim we saw. A failed refresh puts `token_refreshed_at` back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from common.redact import redact
from instagram.errors import AuthError, GraphError, RateLimitedError, TransientError

from .crypto import encrypt_token
from .meta import account_call, account_mark_needs_reconnect
from .models import InstagramAccount
from .notifications import tokens_expiring_alert_send

logger = logging.getLogger(__name__)

MIN_TOKEN_AGE = timedelta(hours=24)


class RefreshOutcome(StrEnum):
    REFRESHED = "refreshed"
    SKIPPED = "skipped"  # another run holds it, or it was reconnected/disconnected meanwhile
    RETRY_LATER = "retry later"  # a transient failure: the next run tries again
    NEEDS_RECONNECT = "needs reconnect"  # Meta said the token is dead (190)
    EXPIRED = "expired"  # it expired before any refresh succeeded
    FAILED = "failed"  # any other refusal


@dataclass(frozen=True)
class RefreshResult:
    account_id: int
    ig_id: str
    username: str
    outcome: RefreshOutcome
    expires_at: datetime | None
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome not in (RefreshOutcome.REFRESHED, RefreshOutcome.SKIPPED)

    @property
    def label(self) -> str:
        return f"@{self.username}" if self.username else self.ig_id


def refresh_horizon() -> timedelta:
    return timedelta(days=settings.ACCOUNTS_TOKEN_REFRESH_HORIZON_DAYS)


def tokens_due_for_refresh(*, now: datetime) -> QuerySet[InstagramAccount]:
    """OAuth accounts, active, with a token at least 24 h old that expires within the
    horizon and has not expired. An unknown age or expiry counts as due: the refresh
    answer tells us."""
    return (
        InstagramAccount.objects.filter(
            source=InstagramAccount.Source.OAUTH, status=InstagramAccount.Status.ACTIVE
        )
        .exclude(token_ciphertext="")
        .filter(Q(token_refreshed_at__isnull=True) | Q(token_refreshed_at__lte=now - MIN_TOKEN_AGE))
        .filter(
            Q(token_expires_at__isnull=True)
            | Q(token_expires_at__gt=now, token_expires_at__lte=now + refresh_horizon())
        )
    )


def tokens_expired(*, now: datetime) -> QuerySet[InstagramAccount]:
    """Active OAuth accounts whose token is already dead: nothing can refresh them."""
    return InstagramAccount.objects.filter(
        source=InstagramAccount.Source.OAUTH,
        status=InstagramAccount.Status.ACTIVE,
        token_expires_at__lte=now,
    ).exclude(token_ciphertext="")


def tokens_refresh(*, now: datetime | None = None) -> list[RefreshResult]:
    """Refresh every due token; one result per account considered."""
    now = now or timezone.now()
    results = [_expired_mark(account) for account in tokens_expired(now=now)]
    for account in tokens_due_for_refresh(now=now).order_by("token_expires_at", "pk"):
        results.append(_refresh_one(account, now=now))
    tokens_expiring_alert_send(now=now)
    for result in results:
        logger.info(
            "token refresh account %s: %s%s",
            result.account_id,
            result.outcome,
            f" ({result.detail})" if result.detail else "",
        )
    return results


def _result(account: InstagramAccount, outcome: RefreshOutcome, detail: str = "") -> RefreshResult:
    return RefreshResult(
        account_id=account.pk,
        ig_id=account.ig_id,
        username=account.username,
        outcome=outcome,
        expires_at=account.token_expires_at,
        detail=detail,
    )


def _expired_mark(account: InstagramAccount) -> RefreshResult:
    expired_on = account.token_expires_at.strftime("%Y-%m-%d") if account.token_expires_at else ""
    reason = f"The token expired on {expired_on} before it could be refreshed."
    account_mark_needs_reconnect(account_id=account.pk, reason=reason)
    return _result(account, RefreshOutcome.EXPIRED, reason)


def _refresh_one(account: InstagramAccount, *, now: datetime) -> RefreshResult:
    previous = account.token_refreshed_at
    seen = tokens_due_for_refresh(now=now).filter(
        pk=account.pk, token_ciphertext=account.token_ciphertext
    )
    seen = (
        seen.filter(token_refreshed_at__isnull=True)
        if previous is None
        else seen.filter(token_refreshed_at=previous)
    )
    if not seen.update(token_refreshed_at=now):
        return _result(account, RefreshOutcome.SKIPPED, "another refresh is running")
    claimed = InstagramAccount.objects.filter(
        pk=account.pk, token_ciphertext=account.token_ciphertext, token_refreshed_at=now
    )

    try:
        with account_call(account, doing="refreshing it") as client:
            grant = client.refresh_long_lived_token()
    except AuthError as e:
        claimed.update(token_refreshed_at=previous)
        return _result(account, RefreshOutcome.NEEDS_RECONNECT, _detail(e))
    except (TransientError, RateLimitedError) as e:
        claimed.update(token_refreshed_at=previous)
        return _result(account, RefreshOutcome.RETRY_LATER, _detail(e))
    except GraphError as e:
        claimed.update(token_refreshed_at=previous)
        return _result(account, RefreshOutcome.FAILED, _detail(e))
    except Exception as e:
        # One unexpected failure must not stop the other accounts' refresh. Only the type is
        # logged: a traceback's text is not redacted and could carry the request's URL.
        claimed.update(token_refreshed_at=previous)
        logger.error("token refresh of account %s failed: %s", account.pk, type(e).__name__)
        return _result(account, RefreshOutcome.FAILED, f"unexpected error ({type(e).__name__})")

    if not grant.access_token:
        claimed.update(token_refreshed_at=previous)
        return _result(account, RefreshOutcome.FAILED, "Meta's answer had no access_token")
    expires_at = grant.expires_at(now=now)
    written = claimed.filter(status=InstagramAccount.Status.ACTIVE).update(
        token_ciphertext=encrypt_token(grant.access_token),
        token_expires_at=expires_at,
        token_refreshed_at=now,
        updated_at=timezone.now(),
    )
    if not written:
        return _result(account, RefreshOutcome.SKIPPED, "reconnected or disconnected meanwhile")
    account.token_expires_at = expires_at
    return _result(account, RefreshOutcome.REFRESHED)


def _detail(error: GraphError) -> str:
    return redact(f"{error.message} ({error.code_label})")[:300]
