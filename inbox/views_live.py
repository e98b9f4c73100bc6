"""The live polls' usual answer, "nothing changed" (204), given before Django loads the
session or the user.

An open inbox page polls its list every 2.5 s and its thread every 2 s, and nearly every
poll finds nothing new. For a login this process has seen Django authenticate
(common/known_sessions.py), one statement reads the change stamps and proves the login
together; if the client's version holds, the answer is 204 with the presence header, as the
views' own 204. Anything else (no version, a version behind, a login not remembered or no
longer proven, a conversation the agent may not see) is left to the views, which check the
login as every page does and render.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from common.known_sessions import known_session

from .presenters import list_key, reply_state_present, thread_version
from .services import live
from .services.presence import agent_seen
from .views_presence import presence_header_set


def list_poll_answer(request: HttpRequest) -> HttpResponse | None:
    """The list's live poll (`?fragment=rows&v=...`) when the client's version holds."""
    client = request.GET.get("v", "")
    if request.method != "GET" or not client or request.GET.get("fragment") != "rows":
        return None
    known = known_session(request)
    if known is None:
        return None
    stamp = live.list_stamp_known(known=known)
    if stamp is None:
        return None
    current = request.GET.get("current", "")
    current_id = int(current) if current.isdigit() else None
    stamp = live.digest(stamp, list_key(request.GET, current_id=current_id))
    if not live.version_holds(client=client, stamp=stamp, now=timezone.now()):
        return None
    if request.headers.get("X-Inbox-Poll"):
        agent_seen(user_id=known.user_id)
    return HttpResponse(status=204)


def thread_poll_answer(request: HttpRequest, pk: int) -> HttpResponse | None:
    """The open thread's live poll (`/c/<id>/updates/?v=...`) when the client's version
    holds: the conversation row is read with the proof, nothing else."""
    client = request.GET.get("v", "")
    if request.method != "GET" or not client:
        return None
    known = known_session(request)
    if known is None:
        return None
    row = live.thread_poll_known(known=known, conversation_id=pk)
    if row is None:
        return None
    now = timezone.now()
    version = thread_version(
        conversation=row, reply_state=reply_state_present(conversation=row, now=now), now=now
    )
    if not live.version_holds(client=client, stamp=version[: live.STAMP_CHARS], now=now):
        return None
    response = HttpResponse(status=204)
    presence_header_set(request, response, pk, user_id=known.user_id, name=known.name)
    return response
