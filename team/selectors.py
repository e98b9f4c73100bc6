"""Team work's read queries: a thread's notes and activity, mentions, saved replies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from accounts.roles import accounts_for_user, user_is_admin
from common.compiled import compiled_count

from .models import ActivityEvent, ActivityKind, Mention, Note, SavedReply
from .refs import ConversationRef

# A page of the thread shows at most this many notes and as many activity lines (the
# newest of its time span): a fixed cost however busy the conversation.
EXTRAS_PER_PAGE = 100
MENTIONS_PAGE_SIZE = 50
UNREAD_MENTIONS_CAP = 99  # counted up to 100 ("99+"), so the count stays cheap


def _span(queryset: QuerySet, *, since: datetime | None, until: Any) -> QuerySet:
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    if until is not None:
        queryset = queryset.filter(created_at__lt=until)
    return queryset


def thread_notes_and_activity(
    *, conversation: ConversationRef, since: datetime | None, until: Any = None
) -> tuple[list[Note], list[ActivityEvent]]:
    """The notes and activity lines of one page of the thread: from `since` (the page's
    first message, or the beginning) up to `until` (a time, or an expression for the next
    page's first message; None: now). Two queries. A note's own "note added" event is not
    a line: the note shows."""
    notes = _span(
        Note.objects.filter(conversation_id=conversation.pk).select_related("author"),
        since=since,
        until=until,
    )
    events = _span(
        ActivityEvent.objects.filter(conversation_id=conversation.pk)
        .exclude(kind=ActivityKind.NOTE_ADDED)
        .select_related("actor"),
        since=since,
        until=until,
    )
    newest_notes = list(notes.order_by("-created_at", "-id")[:EXTRAS_PER_PAGE])
    newest_events = list(events.order_by("-created_at", "-id")[:EXTRAS_PER_PAGE])
    return newest_notes[::-1], newest_events[::-1]


def mentions_for_user(*, user: AbstractBaseUser | AnonymousUser) -> list[Mention]:
    """The agent's newest mentions in conversations they may still see."""
    return list(
        Mention.objects.filter(user_id=user.pk or 0, account__in=accounts_for_user(user))
        .select_related("note__author", "note__conversation__account")
        .order_by("-created_at", "-id")[:MENTIONS_PAGE_SIZE]
    )


def mentions_unread_count(*, user: AbstractBaseUser | AnonymousUser) -> int:
    """Unread mentions of the agent (in accounts they may work), up to UNREAD_MENTIONS_CAP
    + 1. One query."""
    user_id = user.pk
    if user_id is None:
        return 0

    def unread() -> QuerySet[Mention, Any]:
        return Mention.objects.filter(
            user_id=user_id,
            read_at__isnull=True,
            account__in=accounts_for_user(user).values("pk"),
        ).values("pk")[: UNREAD_MENTIONS_CAP + 1]

    # Built from the agent and their role alone (their accounts a subquery).
    key = ("team.mentions", user_id, user.is_active, user_is_admin(user))
    return compiled_count(key, unread)


def saved_replies_for(*, conversation: ConversationRef) -> list[SavedReply]:
    """The saved replies an agent may use in this conversation: its account's and those for
    every account."""
    return list(
        SavedReply.objects.filter(
            Q(account__isnull=True) | Q(account_id=conversation.account_id)
        ).order_by("shortcut", "id")
    )
