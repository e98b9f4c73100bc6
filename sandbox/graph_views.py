"""The fake Graph API: the app's real Graph calls for the sandbox account land here, and
`sandbox.fake_meta` answers them as Meta would."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from instagram.client import SUBSCRIBED_FIELDS

from .fake_meta import (
    graph_conversation,
    graph_conversations,
    graph_error,
    graph_me,
    graph_message,
    graph_message_receive,
    graph_profile,
    graph_token,
)

View = Callable[..., HttpResponse]


def fake_meta(view: View) -> View:
    """Open like Meta's API (no login, no CSRF), 404 unless the sandbox is on, and refusing
    any token but the sandbox's with Meta's code 190."""

    @login_not_required
    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.SANDBOX_ENABLED:
            raise Http404
        if _token(request) != settings.SANDBOX_ACCESS_TOKEN:
            return _answer(*graph_error(400, 190, "Invalid OAuth access token."))
        return view(request, *args, **kwargs)

    return wrapper


def _token(request: HttpRequest) -> str:
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return token or request.GET.get("access_token", "")


def _answer(status: int, body: dict[str, Any]) -> JsonResponse:
    return JsonResponse(body, status=status)


def _webhook_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("inbox:instagram_webhook"))


@fake_meta
def messages(request: HttpRequest, version: str, node: str) -> HttpResponse:
    if request.method != "POST":
        return _answer(*graph_error(400, 100, "Unsupported request method"))
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _answer(*graph_error(400, 100, "(#100) Invalid JSON"))
    if not isinstance(body, dict):
        return _answer(*graph_error(400, 100, "(#100) Invalid JSON"))
    return _answer(*graph_message_receive(ig_id=node, body=body, webhook_url=_webhook_url(request)))


@fake_meta
def node(request: HttpRequest, version: str, node: str) -> HttpResponse:
    if node == "me":
        return JsonResponse(graph_me())
    fields = request.GET.get("fields", "message")
    found = graph_conversation(conversation_id=node) or graph_message(mid=node, fields=fields)
    return _answer(*(found or graph_profile(igsid=node)))


@fake_meta
def conversations(request: HttpRequest, version: str, node: str) -> HttpResponse:
    """GET /me/conversations?platform=instagram (the history sync's list)."""
    if node not in ("me", settings.SANDBOX_ACCOUNT_ID):
        return _answer(*graph_error(400, 100, "Unsupported get request. Object does not exist."))
    if request.GET.get("platform") != "instagram":
        return _answer(*graph_error(400, 100, "(#100) The platform parameter is required"))
    return _answer(
        *graph_conversations(
            url=request.build_absolute_uri(request.path),
            after=request.GET.get("after", ""),
            limit=request.GET.get("limit", ""),
        )
    )


@fake_meta
def subscribed_apps(request: HttpRequest, version: str) -> HttpResponse:
    if request.method == "GET":
        # Complete, as after the connect flow's subscription: the sandbox stays healthy.
        fields = SUBSCRIBED_FIELDS.split(",")
        app = {"id": settings.INSTAGRAM_CLIENT_ID or "sandbox-app", "subscribed_fields": fields}
        return JsonResponse({"data": [{"name": "Sandbox app", **app}]})
    return JsonResponse({"success": True})


@fake_meta
def token(request: HttpRequest) -> HttpResponse:
    return JsonResponse(graph_token())
