"""Presence on the live polls: the thread's poll carries who else has the conversation open
and who is typing; both polls say the agent is online (for auto-assignment)."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse

from accounts.roles import agent_name

from .services.presence import agent_seen, conversation_presence_note

PRESENCE_HEADER = "X-Inbox-Presence"


def presence_headers(request: HttpRequest, response: HttpResponse, pk: int) -> HttpResponse:
    """The live thread poll carries who else has the conversation open and who is typing,
    as a small JSON header (ASCII-escaped), on a 204 as on a 200: no extra request."""
    user = request.user
    if user.pk is None:  # nobody to note (the views need a login)
        return response
    return presence_header_set(request, response, pk, user_id=user.pk, name=agent_name(user))


def presence_header_set(
    request: HttpRequest, response: HttpResponse, pk: int, *, user_id: int, name: str
) -> HttpResponse:
    """`presence_headers` for agent `user_id`, seen by colleagues as `name` (the live poll's
    204 answered before the user is loaded knows no more of them)."""
    viewers = conversation_presence_note(
        conversation_id=pk, user_id=user_id, name=name, typing=request.GET.get("typing") == "1"
    )
    agent_seen(user_id=user_id)
    response[PRESENCE_HEADER] = json.dumps(
        [{"name": viewer.name, "typing": viewer.typing} for viewer in viewers]
    )
    return response


def presence_list_seen(request: HttpRequest) -> None:
    """The list's live poll: the agent is online (auto-assignment)."""
    agent_seen(user_id=request.user.pk)
