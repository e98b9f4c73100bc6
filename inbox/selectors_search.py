"""Searching conversations by customer name, @username or message text, fast at millions of
messages on PostgreSQL (pg_trgm GIN indexes, see migration ui_search_indexes).

A rare term (a name, an order number) is looked up through the indexes: the matching
conversation ids, then the page of them in list order. A common term ("refund") matches too
many rows to collect, so it is searched the other way round: the next SEARCH_WINDOW
conversations in list order, and which of those match. Pages may then hold fewer rows, but
"Older" walks on through every conversation, so every match stays reachable.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery, Value

from .models import Conversation, Message

# pg_trgm indexes only help from three characters; shorter queries search names only.
MESSAGE_SEARCH_MIN_CHARS = 3
# More matching rows than this and a term counts as common.
SEARCH_PROBE = 2000
SEARCH_WINDOW = 1000


def _handle(q: str) -> str:
    return q.lstrip("@") or q


def search_matches(q: str) -> set[int] | None:
    """Ids of conversations whose customer or messages match `q`; None when `q` is common."""
    if len(q) < MESSAGE_SEARCH_MIN_CHARS:
        return None
    by_customer = (
        Conversation.objects.order_by()
        .filter(Q(customer_name__icontains=q) | Q(customer_username__icontains=_handle(q)))
        .values_list("pk", flat=True)[: SEARCH_PROBE + 1]
    )
    ids = set(by_customer)
    if len(ids) > SEARCH_PROBE:
        return None
    by_text = list(
        Message.objects.order_by()
        .filter(text__icontains=q)
        .values_list("conversation_id", flat=True)[: SEARCH_PROBE + 1]
    )
    if len(by_text) > SEARCH_PROBE:
        return None
    return ids | set(by_text)


def search_hit(q: str) -> Subquery | Value:
    """The text of a conversation's newest message that matches `q` (unsent ones left
    out), shown on its row instead of the last message: through msg_thread_idx, newest
    first, so it stops at the first hit."""
    if len(q) < MESSAGE_SEARCH_MIN_CHARS:
        return Value("")
    return Subquery(
        Message.objects.filter(conversation=OuterRef("pk"), text__icontains=q, is_deleted=False)
        .order_by("-timestamp", "-id")
        .values("text")[:1]
    )


def search_window(
    scope: QuerySet[Conversation], *, q: str, order: tuple
) -> tuple[list[int], tuple[datetime | None, int] | None]:
    """The conversations of the next window (in list order) that match `q`, and the window's
    last key when more conversations follow it (where "Older" resumes)."""
    window = list(
        scope.order_by(*order).values_list(
            "pk", "last_message_at", "customer_name", "customer_username"
        )[:SEARCH_WINDOW]
    )
    needle, handle = q.casefold(), _handle(q).casefold()
    matched = {
        pk
        for pk, _, name, username in window
        if needle in name.casefold() or handle in username.casefold()
    }
    if len(q) >= MESSAGE_SEARCH_MIN_CHARS:
        # The same window as a subquery: cheaper to plan than a thousand bound ids.
        ids = scope.order_by(*order).values("pk")[:SEARCH_WINDOW]
        matched |= set(
            Message.objects.order_by()
            .filter(conversation_id__in=ids, text__icontains=q)
            .values_list("conversation_id", flat=True)
            .distinct()
        )
    last = window[-1] if len(window) == SEARCH_WINDOW else None
    return sorted(matched), (last[1], last[0]) if last else None
