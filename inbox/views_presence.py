"""Presence on the live polls: the thread's poll carries who else has the conversation open
and who is typing; both polls say the agent is online (for auto-assignment)."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse

from .services.presence import agent_seen, conversation_presence_note

PRESENCE_HEADER = "X-Inbox-Presence"


def presence_headers(request: HttpRequest, response: HttpResponse, pk: int) -> HttpResponse:
    """The live thread poll carries who else has the conversation open and who is typing,
    as a small JSON header (ASCII-escaped), on a 204 as on a 200: no extra request."""
    viewers = conversation_presence_note(
        conversation_id=pk, user=request.user, typing=request.GET.get("typing") == "1"
    )
    agent_seen(user=request.user)
    response[PRESENCE_HEADER] = json.dumps(
        [{"name": viewer.name, "typing": viewer.typing} for viewer in viewers]
    )
    return response


def presence_list_seen(request: HttpRequest) -> None:
    """The list's live poll: the agent is online (auto-assignment)."""
    agent_seen(user=request.user)
