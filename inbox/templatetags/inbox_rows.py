"""The conversation list's rows, prepared in Python: the list is rendered on every page and
every live poll, and plain dict lookups keep its template cheap (no per-row tags)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from .inbox_tags import age, initials, reply_window_of, safe_url

register = template.Library()


@register.simple_tag(takes_context=True)
def conversation_rows(context: template.Context) -> list[dict[str, Any]]:
    user_pk = context["request"].user.pk
    current_id = context.get("current_id")
    query = context.get("list_query") or ""
    several = len(context.get("accounts") or ()) > 1
    base = reverse("inbox:conversation_detail", args=[0]).rstrip("/").rsplit("/", 1)[0]
    rows = []
    for c in context["page"].conversations:
        window = reply_window_of(c)
        name = c.display_name
        assignee = c.assignee
        rows.append(
            {
                "pk": c.pk,
                "href": f"{base}/{c.pk}/" + (f"?{query}" if query else ""),
                "name": name,
                "initials": initials(name),
                "picture": safe_url(c.customer_picture_url),
                "username": c.customer_username,
                "account": (c.account.username or c.account.ig_id) if several else "",
                "at": c.last_message_at.isoformat() if c.last_message_at else "",
                "age": age(c.last_message_at),
                "preview": c.last_message_preview or "No messages yet",
                "window_state": window["state"],
                "window_label": window["label"],
                "closed": c.status == "closed",
                "assignee": (
                    ""
                    if assignee is None
                    else "You"
                    if assignee.pk == user_pk
                    else assignee.get_short_name() or assignee.get_username()
                ),
                "assignee_username": assignee.get_username() if assignee else "",
                "unread": bool(getattr(c, "is_unread", False)),
                "current": c.pk == current_id,
            }
        )
    return rows
