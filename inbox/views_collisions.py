"""Working beside colleagues: taking a colleague's conversation asks first, sending into it
asks once; closing goes on to the next open conversation. Helpers of `inbox.views`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse

from accounts.roles import agent_name

from .forms import ListFilterForm
from .models import Conversation
from .selectors import next_open_conversation


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def takes_from_colleague(request: HttpRequest, conversation: Conversation, assignee: Any) -> bool:
    """ "Assign to me" on a colleague's conversation asks first (unless confirmed)."""
    return (
        assignee is not None
        and assignee.pk == request.user.pk
        and conversation.assignee_id not in (None, request.user.pk)
        and request.POST.get("confirmed") != "1"
    )


def assign_confirm(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    """The second step of taking a colleague's conversation: a page of its own (htmx asks
    with hx-confirm in the browser and posts `confirmed=1` at once)."""
    context = {"conversation": conversation, "list_query": request.POST.get("list_query", "")}
    template = "inbox/_assign_confirm.html" if _htmx(request) else "inbox/assign_confirm.html"
    return render(request, template, context)


def go_on(request: HttpRequest, conversation: Conversation, note: str) -> HttpResponse:
    """Close and go on: to the next open conversation of the agent's list (the list itself
    when none is left). htmx follows with HX-Redirect, a plain form with a redirect."""
    query = request.POST.get("list_query", "")
    filters = ListFilterForm(QueryDict(query)).filters()
    following = next_open_conversation(user=request.user, filters=filters, after=conversation)
    if following is None:
        url = reverse("inbox:conversation_list")
    else:
        url = reverse("inbox:conversation_detail", args=[following.pk])
    url = f"{url}?{query}" if query else url
    flash.success(request, note)
    if _htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


COLLEAGUE_OK = "inbox:colleague_ok"  # the session's conversations confirmed once
COLLEAGUE_OK_KEPT = 50


def colleague_to_confirm(request: HttpRequest, conversation: Conversation) -> str:
    """Sending into a colleague's conversation asks once: the colleague's name until the
    agent confirms (`colleague_ok=1`), then "" for this conversation for the session."""
    if conversation.assignee is None or conversation.assignee_id == request.user.pk:
        return ""
    confirmed: list[int] = list(request.session.get(COLLEAGUE_OK, []))
    if conversation.pk in confirmed:
        return ""
    if request.POST.get("colleague_ok") == "1":
        request.session[COLLEAGUE_OK] = [*confirmed, conversation.pk][-COLLEAGUE_OK_KEPT:]
        return ""
    assignee = conversation.assignee
    return agent_name(assignee)
