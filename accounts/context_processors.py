"""The admins' banner: accounts needing reconnection and tokens about to expire."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .roles import user_is_admin
from .selectors import account_alerts as account_alerts_select


def account_alerts(request: HttpRequest) -> dict[str, Any]:
    """`account_alerts` for templates/accounts/_alerts.html: a list for admins (queried only
    when a template reads it), empty for everyone else."""
    user = getattr(request, "user", None)
    if user is None or not user_is_admin(user):
        return {"account_alerts": []}
    return {"account_alerts": SimpleLazyObject(account_alerts_select)}
