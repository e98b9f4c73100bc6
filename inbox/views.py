"""The agents' inbox pages. Views parse, call a selector or service, and render."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .selectors import conversations_for_user

PAGE_SIZE = 50


@require_GET
def conversation_list(request: HttpRequest) -> HttpResponse:
    conversations = conversations_for_user(request.user)
    page = Paginator(conversations, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "inbox/conversation_list.html", {"page": page})
