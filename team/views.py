"""Team work's own pages: an agent's Mentions."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from .selectors import mentions_for_user, mentions_unread_count
from .services import mentions_mark_read


@require_GET
def mention_list(request: HttpRequest) -> HttpResponse:
    """Notes that mention the agent, newest first, the unread ones marked. Opening one's
    conversation marks it read."""
    return render(
        request,
        "team/mentions.html",
        {
            "mentions": mentions_for_user(user=request.user),
            "unread_mentions": mentions_unread_count(user=request.user),
        },
    )


@require_POST
def mention_read_all(request: HttpRequest) -> HttpResponse:
    mentions_mark_read(user=request.user)
    return HttpResponseRedirect(reverse("team:mention_list"))
