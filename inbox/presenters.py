"""What the inbox pages show of a conversation, decided in Python once per request.

A thread's reply state (the window's state, label and tag, and why a reply would be refused)
is built once and handed to the thread's templates and to the live poll's version digest;
the list's rows are built here too. Views and template tags both call this module; it
renders nothing itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.http import QueryDict
from django.utils import timezone
from django.utils.safestring import mark_safe

from accounts.roles import agent_name
from team.presenters import timeline_present

from .models import Conversation
from .outbound.replies import TEXT_LIMIT_BYTES, reply_refusal
from .presenters_delivery import (
    META_WINDOW_LABEL,
    reply_problem_label,
    window_contradiction_present,
)
from .presenters_search import search_snippet
from .selectors import (
    ListFilters,
    assignable_agents,
    conversation_labels,
    conversation_list_page,
    label_suggestions,
    thread_messages,
    thread_page_end,
    unread_count,
    user_accounts,
)
from .services.live import thread_stamp, version_make
from .services.snooze import snooze_presets, snooze_window_warning
from .services.window import ReplyWindow, WindowState, conversation_reply_window

# The heart (sticker, reactions, the sticker button), drawn rather than an emoji so it looks
# the same on every system; passed in the thread's context rather than included per message.
HEART_SVG = mark_safe(
    '<svg class="heart-svg" viewBox="0 0 24 24" aria-hidden="true"><path d="M12 21s-7.6-4.4-9.6'
    "-9.1C.9 8.5 3.1 4.8 6.8 4.8c2 0 3.5 1.1 4.3 2.6h1.8c.8-1.5 2.3-2.6 4.3-2.6 3.7 0 5.9 3.7 "
    '4.4 7.1C19.6 16.6 12 21 12 21z"/></svg>'
)
# Query parameters of one request (paging, polling, the highlighted row), not the list's filters.
REQUEST_ONLY_KEYS = (
    "older",
    "newer",
    "v",
    "before",
    "fragment",
    "visible",
    "current",
    "typing",
    "saved",
    "r",  # what a polling page holds (inbox/services/live_held.py)
)


def list_filters_query(query: QueryDict) -> QueryDict:
    """The list's filters in a query string, carried through links so "back" returns to them."""
    filters = query.copy()
    for key in REQUEST_ONLY_KEYS:
        filters.pop(key, None)
    return filters


def duration_label(left: timedelta) -> str:
    """ "5 d", "23 h", "12 min": floored, so the label never promises more than is left."""
    seconds = int(left.total_seconds())
    if seconds >= 86400:
        return f"{seconds // 86400} d"
    if seconds >= 3600:
        return f"{seconds // 3600} h"
    return f"{max(seconds // 60, 1)} min"


def window_label(window: ReplyWindow, now: datetime | None = None) -> str:
    left = window.time_left(now)
    if window.state == WindowState.OPEN and left is not None:
        # Hours, never "1 d": the standard window is a day long at most.
        return f"{duration_label(min(left, timedelta(hours=23, minutes=59)))} left"
    if window.state == WindowState.HUMAN_AGENT and left is not None:
        return f"human agent: {duration_label(left)} left"
    return "reply window ended"


@dataclass(frozen=True)
class WindowView:
    """The reply window as the pages show it."""

    state: str  # "open", "human_agent" or "closed" (the CSS class win-<state>)
    label: str  # "23 h left", "human agent: 5 d left", "reply window ended"
    tag: str  # the tag a reply sent now would carry ("" or "HUMAN_AGENT")
    reason: str  # why nothing can be sent (empty unless closed)
    closes_at: datetime | None


@dataclass(frozen=True)
class ReplyState:
    """What the thread shows about replying: the window, and why a reply would be refused."""

    window: WindowView
    refusal: str  # empty when a reply can be sent now

    @property
    def can_react(self) -> bool:
        # Meta takes reactions within the standard 24 hours only, never with the tag.
        return self.window.state == WindowState.OPEN and not self.refusal


def window_present(
    *, conversation: Conversation, now: datetime | None = None, window: ReplyWindow | None = None
) -> WindowView:
    now = now or timezone.now()
    window = window or conversation_reply_window(conversation=conversation, now=now)
    return WindowView(
        state=str(window.state),
        label=window_label(window, now),
        tag=window.tag,
        reason=window.reason,
        closes_at=window.closes_at,
    )


def reply_state_present(*, conversation: Conversation, now: datetime | None = None) -> ReplyState:
    now = now or timezone.now()
    window = conversation_reply_window(conversation=conversation, now=now)  # once a request
    return ReplyState(
        window=window_present(conversation=conversation, now=now, window=window),
        refusal=reply_refusal(conversation=conversation, window=window),
    )


def thread_version(
    *, conversation: Conversation, reply_state: ReplyState, now: datetime | None = None
) -> str:
    """What the thread's live poll compares, from the conversation row alone: its change
    stamp (every message stored, edited, unsent, reacted to, its delivery status; the
    conversation's work state and profile), the window's state and the refusal. Not the
    window's label: "57 min left" ticks in the browser, and the version expires when the
    window changes state (`closes_at`), so a closing window still disables the box."""
    window = reply_state.window
    stamp = thread_stamp(
        conversation=conversation, extra=(window.state, window.tag, reply_state.refusal)
    )
    return version_make(stamp=stamp, now=now or timezone.now(), boundaries=[window.closes_at])


def thread_present(
    *,
    conversation: Conversation,
    before_id: int | None = None,
    reply_state: ReplyState | None = None,
    version: str = "",
    tz: tzinfo | None = None,
) -> dict[str, Any]:
    """The thread's part of a page: a page of messages (the newest, or those before
    `before_id`), the reply state and the version; `reply_state` and `version` when the
    caller has them already."""
    reply_state = reply_state or reply_state_present(conversation=conversation)
    messages, has_earlier = thread_messages(conversation=conversation, before_id=before_id)
    contradiction = window_contradiction_present(
        conversation=conversation,
        messages=messages,
        window_open=reply_state.window.state != WindowState.CLOSED,
    )
    return {
        "window_contradiction": contradiction,
        "window_meta_label": META_WINDOW_LABEL if contradiction else "",
        "conversation": conversation,
        "thread": messages,
        # The messages with the team's notes and activity lines of the same span, by time.
        "timeline": timeline_present(
            conversation=conversation,
            messages=messages,
            has_earlier=has_earlier,
            until=thread_page_end(conversation=conversation, before_id=before_id),
        ),
        "replied": {m.mid: m for m in messages if m.mid},
        "has_earlier": has_earlier,
        "earlier_id": messages[0].pk if messages else None,
        "window": reply_state.window,
        "refusal": reply_state.refusal,
        "can_react": reply_state.can_react,
        "agents": list(assignable_agents(account=conversation.account)),
        "fingerprint": version
        or thread_version(conversation=conversation, reply_state=reply_state),
        "text_limit": TEXT_LIMIT_BYTES,
        "heart_svg": HEART_SVG,
        **team_present(conversation=conversation, tz=tz),
    }


def team_present(*, conversation: Conversation, tz: tzinfo | None = None) -> dict[str, Any]:
    """The thread's team tools: its labels (and those to pick from) and the snooze menu,
    each preset with what the reply window will allow when it ends."""
    tz = tz or timezone.get_current_timezone()
    presets = [
        {
            "key": preset.key,
            "label": preset.label,
            "until": preset.until,
            "warning": snooze_window_warning(conversation=conversation, until=preset.until),
        }
        for preset in snooze_presets(tz=tz)
    ]
    labels = conversation_labels(conversation=conversation)
    return {
        "labels": labels,
        "labels_version": ",".join(f"{label.pk}:{label.name}:{label.color}" for label in labels),
        "snooze_presets": presets,
        "snooze_tz": getattr(tz, "key", ""),
    }


def list_present(
    *,
    user: AbstractBaseUser | AnonymousUser,
    filters: ListFilters,
    older: str = "",
    newer: str = "",
    shared: str = "",
) -> dict[str, Any]:
    """The list's part of a page: one page of conversations, the accounts and the unread
    count (the rows themselves are built by `conversation_rows_present` as they render);
    `shared`: as `conversation_list_page` takes it."""
    page = conversation_list_page(
        user=user, filters=filters, older=older, newer=newer, shared=shared
    )
    return {
        "filters": filters,
        "page": page,
        "accounts": user_accounts(user=user),
        "unread": unread_count(user=user, filters=filters),
        **label_filter_present(filters=filters),
    }


def label_filter_present(*, filters: ListFilters) -> dict[str, Any]:
    """The list's label filter: every label, checked when filtered on, and the other
    filters as hidden fields so the form keeps them."""
    chosen = {name.lower() for name in filters.labels}
    fields = [
        ("account", filters.account_id),
        ("status", "" if filters.status == "open" else filters.status),
        ("box", "" if filters.box == "all" else filters.box),
        ("window", filters.window),
    ]
    return {
        "all_labels": [
            {"name": label.name, "color": label.color, "checked": label.name.lower() in chosen}
            for label in label_suggestions()
        ],
        "list_filter_fields": [(key, value) for key, value in fields if value],
    }


def list_key(query: QueryDict, current_id: int | None) -> str:
    """Which list a request shows (filters, search, page, the highlighted row): part of the
    list's version, so a version never answers for another list."""
    filters = sorted(list_filters_query(query).lists())  # in whatever order they came
    return "|".join(
        [repr(filters), query.get("older", ""), query.get("newer", ""), str(current_id)]
    )


def list_boundaries(conversations: Iterable[Conversation], now: datetime) -> list[datetime | None]:
    """When each row's reply window changes state: the list's version expires at the first."""
    return [conversation_reply_window(conversation=c, now=now).closes_at for c in conversations]


def age(moment: datetime | None) -> str:
    """Compact age for the list: "now", "5m", "3h", "Mon", "12 Mar", "12 Mar 2023"."""
    if moment is None:
        return ""
    now = timezone.now()
    delta = now - moment
    if delta < timedelta(minutes=1):
        return "now"
    if delta < timedelta(hours=1):
        return f"{int(delta.total_seconds() // 60)}m"
    if delta < timedelta(hours=24):
        return f"{int(delta.total_seconds() // 3600)}h"
    local = timezone.localtime(moment)
    if delta < timedelta(days=7):
        return local.strftime("%a")
    if local.year == timezone.localtime(now).year:
        return f"{local.day} {local:%b}"
    return f"{local.day} {local:%b %Y}"


def initials(name: str) -> str:
    # Letters and digits only: a direction control or a symbol is no initial.
    words = [w for w in re.split(r"[\W_]+", name) if w]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def safe_url(value: Any) -> str:
    """Only http(s) links reach an href or src: a javascript: URL in a payload stays inert."""
    if not isinstance(value, str):
        return ""
    return value if urlsplit(value).scheme in ("http", "https") else ""


def _assignee_label(conversation: Conversation, user_pk: Any) -> str:
    assignee = conversation.assignee
    if assignee is None:
        return ""
    if assignee.pk == user_pk:
        return "You"
    return agent_name(assignee)


def _row_labels(conversation: Conversation) -> Iterable[Any]:
    # The list page reads them into `label_list` (see conversation_list_page).
    labels = getattr(conversation, "label_list", None)
    return conversation.labels.all() if labels is None else labels


def conversation_rows_present(
    *,
    conversations: Iterable[Conversation],
    user_pk: Any,
    current_id: int | None,
    list_query: str,
    several_accounts: bool,
    base_url: str,
    query: str = "",
) -> list[dict[str, Any]]:
    """The list's rows as plain dicts: the list is rendered on every page and every live
    poll, and dict lookups keep its template cheap (no per-row tags)."""
    now = timezone.now()
    rows = []
    for c in conversations:
        window = window_present(conversation=c, now=now)
        name = c.display_name
        rows.append(
            {
                "pk": c.pk,
                "href": f"{base_url}/{c.pk}/" + (f"?{list_query}" if list_query else ""),
                "name": name,
                "initials": initials(name),
                "picture": safe_url(c.customer_picture_url),
                "username": c.customer_username,
                "account": (c.account.username or c.account.ig_id) if several_accounts else "",
                "at": c.last_message_at.isoformat() if c.last_message_at else "",
                "age": age(c.last_message_at),
                "preview": c.last_message_preview or "No messages yet",
                # A search result: the line that matched rather than the last message.
                "hit": search_snippet(getattr(c, "search_hit", "") or "", query),
                "window_state": window.state,
                "window_label": window.label,
                "closes_at": window.closes_at.isoformat() if window.closes_at else "",
                "closed": c.status == "closed",
                "reply_problem": reply_problem_label(getattr(c, "last_reply_status", "")),
                "assignee": _assignee_label(c, user_pk),
                "assignee_username": c.assignee.get_username() if c.assignee else "",
                "labels": [(label.name, label.color) for label in _row_labels(c)],
                # Alerts (inbox.js): a customer message in a conversation that is mine or
                # unassigned.
                "alert": c.assignee_id in (None, user_pk),
                "snoozed": c.snoozed_until is not None,
                "unread": bool(getattr(c, "is_unread", False)),
                "current": c.pk == current_id,
            }
        )
    return rows
