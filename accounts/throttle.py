"""Login throttling, with django-axes doing the counting (settings: `AXES_*`).

Three things of ours: which address a login comes from (`X-Forwarded-For` only when the
deployment says a proxy adds it); the page a locked-out try gets, which says when to try
again; and a gate in front of everything else. Axes refuses a locked-out try in its
authentication backend, ahead of Django's, so no password is hashed for it; but that try has
already loaded a session, checked CSRF, and then costs axes' queries, its log lines and the
page: about 13 times a `/healthz/` request, taken from the webhook's share of the CPU while
someone guesses. So once axes has refused a username or an address, the lock and its end go to
the shared cache, and `LoginLockMiddleware`, right after the security headers, refuses the
next tries for them from one cache read (`LOGIN_LOCK_GATE`, on with Redis). Axes stays the
authority: the gate only repeats a refusal axes made, until the end axes gave, and a lock-out
an admin clears in admin is cleared from the cache too. With the cache unreachable the gate
steps aside (logged once a minute) and axes, in the database, refuses alone: an outage of
Redis never stops a login.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import BaseCache, cache
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from common.cache import cache_or

logger = logging.getLogger(__name__)


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


def lock_cache() -> BaseCache:
    """Where the gate keeps its locks: the shared cache (Redis when configured)."""
    return cache


def _lock_key(parameter: str, value: object) -> str:
    digest = hashlib.sha256(str(value).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"login-lock:{parameter}:{digest}"


def _request_values(request: HttpRequest, credentials: dict[str, object] | None) -> dict[str, Any]:
    return {"username": get_client_username(request, credentials), "ip_address": client_ip(request)}


def lockouts_find(
    request: HttpRequest, credentials: dict[str, object] | None
) -> dict[str, datetime]:
    """Which of this try's lock-out parameters (its username, its address) axes counts as
    locked, each with when its lock ends: the cool-off after the last failure counted (a
    refused try does not extend it: `AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT`)."""
    cool_off = get_cool_off(request) or timedelta(0)
    parameters = get_lockout_parameters(request, credentials)
    attempts_lists = AxesDatabaseHandler().get_user_attempts(request, credentials)
    locked: dict[str, datetime] = {}
    for parameter, attempts in zip(parameters, attempts_lists, strict=True):
        if not isinstance(parameter, str):
            continue  # a combined parameter: not used here (AXES_LOCKOUT_PARAMETERS)
        counted = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        if (counted["failures"] or 0) >= settings.AXES_FAILURE_LIMIT and counted["last"]:
            locked[parameter] = counted["last"] + cool_off
    return locked


def lockouts_remember(request: HttpRequest, locked: dict[str, datetime]) -> None:
    """Hand axes' locks to the gate, each until its end."""
    if not settings.LOGIN_LOCK_GATE or not locked:
        return
    values, now = _request_values(request, None), timezone.now()
    for parameter, ends in locked.items():
        seconds = math.ceil((ends - now).total_seconds())
        if seconds > 0:
            key = _lock_key(parameter, values[parameter])
            # The cache down: axes goes on refusing, from the database.
            remember = partial(lock_cache().set, key, ends.timestamp(), timeout=seconds)
            cache_or(logger, "login lock not handed to the gate", remember, None)


def lockout_read(request: HttpRequest) -> datetime | None:
    """The end of a lock the gate knows for this try's username or address, if one is on:
    one cache read."""
    values = _request_values(request, None)
    keys = [_lock_key(parameter, value) for parameter, value in values.items()]
    # The cache down: the try goes on to axes, which counts it.
    nothing: dict[str, Any] = {}
    found = cache_or(
        logger, "login lock gate skipped", lambda: lock_cache().get_many(keys), nothing
    )
    now = timezone.now().timestamp()
    ends = max((float(end) for end in found.values()), default=0.0)
    return datetime.fromtimestamp(ends, tz=UTC) if ends > now else None


def lockout_forget(*, username: str | None, ip_address: str | None) -> None:
    """Drop the gate's locks for a username and an address (an admin cleared a lock-out)."""
    keys = [_lock_key("username", username)] if username is not None else []
    keys += [_lock_key("ip_address", ip_address)] if ip_address else []
    if keys:
        # Not lost on a cache that comes back: a lock left there ends when axes' did.
        cache_or(
            logger,
            "login lock not cleared from the gate",
            lambda: lock_cache().delete_many(keys),
            None,
        )


def access_attempt_deleted(sender: type[AccessAttempt], instance: AccessAttempt, **_: Any) -> None:
    """post_delete of an axes attempt (admin, `axes_reset`, the expiry clean-up)."""
    lockout_forget(username=instance.username, ip_address=instance.ip_address)


def _locked_page(request: HttpRequest, ends: datetime) -> HttpResponse:
    """The login page again, 429, with when to try again (and `Retry-After` for clients)."""
    seconds = max(math.ceil((ends - timezone.now()).total_seconds()), 1)
    next_url = request.POST.get("next", "") or request.GET.get("next", "")
    if not next_url and request.path == reverse("admin:login"):
        next_url = reverse("admin:index")
    context = {"locked_until": ends, "locked_minutes": -(-seconds // 60), "next": next_url}
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, object] | None = None,
) -> HttpResponse:
    """Axes' refusal (`AXES_LOCKOUT_CALLABLE`): the page, and the locks handed to the gate."""
    locked = lockouts_find(request, credentials)
    lockouts_remember(request, locked)
    ends = max(locked.values(), default=None) or timezone.now() + (
        get_cool_off(request) or timedelta(0)
    )
    return _locked_page(request, ends)


class LoginLockMiddleware:
    """Refuses a login post for a username or from an address axes has locked, before the
    session, CSRF and authentication middleware spend anything on it. Only the form posts to
    the two login pages are looked at; everything else passes untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.csrf = CsrfViewMiddleware(get_response)
        self._paths: frozenset[str] | None = None

    def paths(self) -> frozenset[str]:
        if self._paths is None:
            self._paths = frozenset({reverse("login"), reverse("admin:login")})
        return self._paths

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if (
            request.method == "POST"
            and settings.LOGIN_LOCK_GATE
            and request.path_info in self.paths()
            and (ends := lockout_read(request)) is not None
        ):
            return self.refuse(request, ends)
        return self.get_response(request)

    def refuse(self, request: HttpRequest, ends: datetime) -> HttpResponseBase:
        # The page keeps its form for later: its CSRF token from the browser's cookie, as the
        # CSRF middleware would have given it (a refused post itself changes nothing).
        self.csrf.process_request(request)
        response = self.csrf.process_response(request, _locked_page(request, ends))
        # One log line per refused guess would let a guesser fill the logs: axes logged the
        # lock-out when it began.
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response
