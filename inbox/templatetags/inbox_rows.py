"""The conversation list's rows, prepared in Python by `inbox.presenters`: the list is rendered
on every page and every live poll, and plain dict lookups keep its template cheap."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from inbox.presenters import conversation_rows_present
from inbox.presenters_live import rows_live_present
from inbox.presenters_welcome import Welcome, welcome_present

register = template.Library()


@register.simple_tag(takes_context=True)
def conversation_rows(context: template.Context) -> list[dict[str, Any]]:
    """The rows; on a live poll that sent what its page holds (`rows_held`), those the page
    keeps are marked; `rows_key` names what these rows hold, for the page's next poll."""
    rows = conversation_rows_present(
        conversations=context["page"].conversations,
        user_pk=context["request"].user.pk,
        current_id=context.get("current_id"),
        list_query=context.get("list_query") or "",
        several_accounts=len(context.get("accounts") or ()) > 1,
        base_url=reverse("inbox:conversation_detail", args=[0]).rstrip("/").rsplit("/", 1)[0],
        query=getattr(context.get("filters"), "q", ""),
    )
    rows, context["rows_key"] = rows_live_present(rows, held_key=context.get("rows_held") or "")
    return rows


@register.simple_tag(takes_context=True)
def inbox_welcome(context: template.Context) -> Welcome:
    """What the empty list says to this user (a manager: where the conversations are)."""
    return welcome_present(
        user=context["request"].user, works_an_inbox=bool(context.get("accounts"))
    )
