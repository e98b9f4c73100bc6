"""Login everywhere but where a view says otherwise, without loading anyone for those views.

Django's LoginRequiredMiddleware looks at the user before it looks at the view, so every
request that carries a session cookie loads the session and the user from the database,
even `/healthz/`, which needs neither (with a cookie it cost twice as much). This one asks
the view first.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required, login_required
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers


class LoginRequiredMiddleware(DjangoLoginRequired):
    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        if not getattr(view_func, "login_required", True):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


def answered_before_login(
    answer: Callable[..., HttpResponseBase | None],
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """A view that needs a login, except for the requests `answer` answers first from a proof
    of the login of its own (common/known_sessions.py), without loading the session or the
    user. Everything `answer` leaves (None) goes through Django's login check, as any view."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        guarded = login_required(view)

        @wraps(view)
        def answered(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            response = answer(request, *args, **kwargs)
            if response is None:
                return guarded(request, *args, **kwargs)
            patch_vary_headers(response, ["Cookie"])  # it answered for this session, as Django's
            return response

        return login_not_required(answered)

    return decorate
