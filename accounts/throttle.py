"""Login throttling, with django-axes doing the counting (settings: `AXES_*`).

Two things of ours: which address a login comes from (`X-Forwarded-For` only when the
deployment says a proxy adds it), and the page a locked-out try gets, which says when to try
again. Axes refuses a locked-out try in its authentication backend, ahead of Django's, so no
password is hashed for it: guessing costs a query, not a hash.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone


def client_ip(request: HttpRequest) -> str:
    """The address a login counts against. Behind `TRUSTED_PROXY_COUNT` proxies, the entry of
    `X-Forwarded-For` the outermost of them added (the ones left of it are the client's to
    forge); with none configured the header is anyone's to write, so only the socket counts."""
    proxies: int = settings.TRUSTED_PROXY_COUNT
    remote = str(request.META.get("REMOTE_ADDR", ""))
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    if proxies < 1 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    return hops[max(len(hops) - proxies, 0)]


def lockout_ends(request: HttpRequest, credentials: dict[str, object] | None) -> datetime:
    """When the lock-out this request met ends: the cool-off after the last failure counted
    (a refused try does not extend it: `AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT`)."""
    cool_off = get_cool_off(request) or timedelta(0)
    latest = [
        attempts.aggregate(latest=Max("attempt_time"))["latest"]
        for attempts in AxesDatabaseHandler().get_user_attempts(request, credentials)
    ]
    last_failure = max((when for when in latest if when is not None), default=timezone.now())
    return last_failure + cool_off


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, object] | None = None,
) -> HttpResponse:
    """The login page again, 429, with when to try again (and `Retry-After` for clients)."""
    ends = lockout_ends(request, credentials)
    seconds = max(math.ceil((ends - timezone.now()).total_seconds()), 1)
    next_url = request.POST.get("next", "") or request.GET.get("next", "")
    if not next_url and request.path == reverse("admin:login"):
        next_url = reverse("admin:index")
    context = {"locked_until": ends, "locked_minutes": -(-seconds // 60), "next": next_url}
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response
