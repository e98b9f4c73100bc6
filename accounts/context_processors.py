"""The admins' banner: accounts needing reconnection and tokens about to expire."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject, lazy

from .roles import user_is_admin
from .selectors import AccountAlert, account_alerts_version
from .selectors import account_alerts as account_alerts_select


def account_alerts(request: HttpRequest) -> dict[str, Any]:
    """`account_alerts` for templates/accounts/_alerts.html: a list for admins (queried only
    when a template reads it, once), its version for the live banner, and the URL that
    banner polls; nothing for everyone else."""
    user = getattr(request, "user", None)
    if user is None or not user_is_admin(user):
        return {"account_alerts": [], "alerts_url": ""}
    alerts: list[list[AccountAlert]] = []

    def _alerts() -> list[AccountAlert]:
        if not alerts:
            alerts.append(account_alerts_select())
        return alerts[0]

    return {
        "account_alerts": SimpleLazyObject(_alerts),
        "alerts_version": lazy(lambda: account_alerts_version(_alerts()), str)(),
        "alerts_url": reverse("accounts:alerts"),
    }
