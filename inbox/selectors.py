"""Read queries for the inbox.

Every query here costs a fixed number of round trips whatever the page size: the list and
the thread pages assert it in their tests.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    prefetch_related_objects,
)
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import InstagramAccount
from accounts.roles import account_agents, accounts_for_user, user_is_admin
from common.compiled import compiled_count

from .models import (
    CARRIES_REFERRAL,
    Conversation,
    ConversationLabel,
    ConversationReadState,
    Label,
    Message,
    Reaction,
)
from .selectors_search import search_hit, search_matches, search_window

LIST_PAGE_SIZE = 50
THREAD_PAGE_SIZE = 60
UNREAD_CAP = 99


class Box:
    ALL = "all"
    MINE = "mine"
    UNASSIGNED = "unassigned"
    CHOICES = ((ALL, "All"), (MINE, "Mine"), (UNASSIGNED, "Unassigned"))


SNOOZED = "snoozed"  # the list's "Snoozed" tab: open conversations snoozed for later
WINDOW_ENDING = "ending"  # "Reply window ending": waiting, the 24 hours end within 2 hours
WINDOW_ENDING_WITHIN = timedelta(hours=2)
STANDARD_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class ListFilters:
    account_id: int | None = None
    status: str = Conversation.Status.OPEN  # "open", "closed" or SNOOZED
    box: str = Box.ALL
    q: str = ""
    labels: tuple[str, ...] = ()  # only conversations that carry every one of these
    window: str = ""  # WINDOW_ENDING: only those, soonest end first


@dataclass
class ListPage:
    conversations: Sequence[Conversation]
    older_cursor: str = ""  # "" when this is the last page
    newer_cursor: str = ""  # "" when this is the first page
    is_first: bool = True
    extra: dict[str, object] = field(default_factory=dict)


def conversations_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Conversation]:
    """Every conversation `user` may see: those of the accounts they are a member of."""
    conversations = Conversation.objects.select_related("account", "assignee")
    if user_is_admin(user):
        return conversations
    return conversations.filter(account__in=accounts_for_user(user))


def _unread_annotation(user: AbstractBaseUser | AnonymousUser) -> Q:
    """Unread for `user`: a customer message arrived after their last read (or never read)."""
    read_since = ConversationReadState.objects.filter(
        conversation=OuterRef("pk"),
        user_id=user.pk or 0,
        read_at__gte=OuterRef("last_inbound_received_at"),
    )
    return Q(last_inbound_received_at__isnull=False) & ~Q(Exists(read_since))


def _last_reply_status() -> Subquery:
    """The delivery status of the conversation's newest reply by an agent ("failed" shows on
    its row), through msg_last_reply_idx: one row read per conversation."""
    return Subquery(
        Message.objects.filter(conversation=OuterRef("pk"), origin=Message.Origin.AGENT)
        .order_by("-timestamp", "-id")
        .values("status")[:1]
    )


def conversation_list_queryset(
    *, user: AbstractBaseUser | AnonymousUser, filters: ListFilters
) -> QuerySet[Conversation]:
    """The view's conversations before search: account, status (a search looks in the tab
    the agent is on, Open or Resolved, and says so in its box) and assignment."""
    conversations = conversations_for_user(user)
    if filters.account_id:
        conversations = conversations.filter(account_id=filters.account_id)
    conversations = _status_filter(conversations, filters.status)
    if filters.box == Box.MINE:
        conversations = conversations.filter(assignee_id=user.pk)
    elif filters.box == Box.UNASSIGNED:
        conversations = conversations.filter(assignee__isnull=True)
    for name in filters.labels:
        carries = ConversationLabel.objects.filter(
            conversation=OuterRef("pk"), label__name__iexact=name
        )
        conversations = conversations.filter(Exists(carries))
    if filters.window == WINDOW_ENDING:
        conversations = conversations.filter(_window_ending(timezone.now()))
    return conversations


def _status_filter(conversations: QuerySet[Conversation], status: str) -> QuerySet[Conversation]:
    """Open means open and awake; snoozed ones wait in their own tab."""
    if status == SNOOZED:
        return conversations.filter(status=Conversation.Status.OPEN, snoozed_until__isnull=False)
    if status == Conversation.Status.OPEN:
        return conversations.filter(status=status, snoozed_until__isnull=True)
    return conversations.filter(status=status)


def _window_ending(now: datetime) -> Q:
    """Open, waiting for an answer (the customer's message is the newest), and the 24-hour
    window ends within WINDOW_ENDING_WITHIN (`conv_window_idx`)."""
    return Q(
        status=Conversation.Status.OPEN,
        last_customer_message_at__gt=now - STANDARD_WINDOW,
        last_customer_message_at__lte=now - STANDARD_WINDOW + WINDOW_ENDING_WITHIN,
        last_message_at__lte=F("last_customer_message_at"),
    )


# Newest activity first; a conversation with no message yet sorts first on every database
# (PostgreSQL's default for DESC, so its index on -last_message_at still serves the order).
LIST_ORDER = (F("last_message_at").desc(nulls_first=True), F("pk").desc())


def _cursor(conversation: Conversation) -> str:
    stamp = conversation.last_message_at.isoformat() if conversation.last_message_at else ""
    return f"{stamp}~{conversation.pk}"


def _parse_cursor(cursor: str) -> tuple[datetime | None, int] | None:
    stamp, _, pk = cursor.partition("~")
    # A "+" of the UTC offset arrives as a space when a cursor was pasted unencoded.
    stamp = stamp.replace(" ", "+")
    if not pk.isdigit():
        return None
    moment = parse_datetime(stamp) if stamp else None
    if stamp and moment is None:
        return None
    return moment, int(pk)


def _after(moment: datetime | None, pk: int) -> Q:
    """Rows after (moment, pk) in LIST_ORDER."""
    if moment is None:
        return Q(last_message_at__isnull=True, pk__lt=pk) | Q(last_message_at__isnull=False)
    return Q(last_message_at__lt=moment) | Q(last_message_at=moment, pk__lt=pk)


def _before(moment: datetime | None, pk: int) -> Q:
    """Rows before (moment, pk) in LIST_ORDER."""
    if moment is None:
        return Q(last_message_at__isnull=True, pk__gt=pk)
    return (
        Q(last_message_at__isnull=True)
        | Q(last_message_at__gt=moment)
        | Q(last_message_at=moment, pk__gt=pk)
    )


def conversation_list_page(
    *,
    user: AbstractBaseUser | AnonymousUser,
    filters: ListFilters,
    older: str = "",
    newer: str = "",
    size: int = LIST_PAGE_SIZE,
    shared: str = "",
) -> ListPage:
    """One page of the list, by keyset: a fixed cost however deep the agent pages, and every
    conversation reachable by following "Older".

    With `shared`, the stamp of everything the page shows every agent who sees the same
    accounts (`inbox.services.live.list_stamps`, read before this), a page built at that
    stamp for another agent in this process is used again, and only this agent's unread
    marks are read: a new message puts every open inbox behind at once, and each of their
    polls would otherwise build the same page. A search, or the soonest-ending windows
    (which depend on the clock), is built for each agent."""
    if not shared or filters.q or filters.window == WINDOW_ENDING:
        return _page_build(user=user, filters=filters, older=older, newer=newer, size=size)
    key = (shared, filters, user.pk if filters.box == Box.MINE else None, older, newer, size)
    page = _shared_pages.get(key)
    if page is None:
        page = _page_build(
            user=user, filters=filters, older=older, newer=newer, size=size, unread=False
        )
        _shared_page_keep(key, page)
    # This agent's own copies (the same related rows): their unread marks are theirs.
    conversations = [copy.copy(c) for c in page.conversations]
    unread = _unread_among(user, conversations)
    for conversation in conversations:
        conversation.is_unread = conversation.pk in unread  # type: ignore[attr-defined]
    return replace(page, conversations=conversations, extra=dict(page.extra))


# Pages built for a shared stamp, newest last; the stamp moves on with every change, so a
# few dozen cover every view the agents of this process have open (a page of 50: 208 kB).
_SHARED_PAGES_MOST = 32
_shared_pages: dict[tuple[object, ...], ListPage] = {}
_shared_lock = threading.Lock()


def _shared_page_keep(key: tuple[object, ...], page: ListPage) -> None:
    with _shared_lock:
        if len(_shared_pages) >= _SHARED_PAGES_MOST:
            del _shared_pages[next(iter(_shared_pages))]
        _shared_pages[key] = page


def shared_pages_clear() -> None:
    """For tests: as in a new process."""
    with _shared_lock:
        _shared_pages.clear()


def _unread_among(
    user: AbstractBaseUser | AnonymousUser, conversations: Sequence[Conversation]
) -> set[int]:
    """Which of `conversations` are unread for `user` (`_unread_annotation`). One query."""
    if not conversations:
        return set()
    unread = Conversation.objects.filter(pk__in=[c.pk for c in conversations]).filter(
        _unread_annotation(user)
    )
    return set(unread.values_list("pk", flat=True))


def _page_build(
    *,
    user: AbstractBaseUser | AnonymousUser,
    filters: ListFilters,
    older: str,
    newer: str,
    size: int,
    unread: bool = True,
) -> ListPage:
    conversations = conversation_list_queryset(user=user, filters=filters).annotate(
        last_reply_status=_last_reply_status()
    )
    if unread:
        conversations = conversations.annotate(is_unread=_unread_annotation(user))
    conversations = (
        conversations
        # Into a list of its own: no queryset built per row to hold them (a few ms a page).
        .prefetch_related(
            Prefetch("labels", queryset=Label.objects.order_by("name"), to_attr="label_list")
        )
    )
    if filters.window == WINDOW_ENDING and not filters.q:
        return window_ending_page(conversations, older=older, size=size)
    older_key, newer_key = _parse_cursor(older), _parse_cursor(newer)
    if filters.q:
        conversations = conversations.annotate(search_hit=search_hit(filters.q))
        matches = search_matches(filters.q)
        if matches is None:
            return search_window_page(conversations, q=filters.q, older_key=older_key, size=size)
        conversations = conversations.filter(pk__in=matches)
    if newer_key:
        # Walk backwards from the cursor, then put the rows back in list order.
        rows = list(
            conversations.filter(_before(*newer_key)).order_by(
                F("last_message_at").asc(nulls_last=True), "pk"
            )[: size + 1]
        )
        has_newer = len(rows) > size
        rows = rows[:size][::-1]
        page = ListPage(rows, is_first=not has_newer)
        page.older_cursor = _cursor(rows[-1]) if rows else ""
        page.newer_cursor = _cursor(rows[0]) if rows and has_newer else ""
        return page
    if older_key:
        conversations = conversations.filter(_after(*older_key))
    rows = list(conversations.order_by(*LIST_ORDER)[: size + 1])
    has_older = len(rows) > size
    rows = rows[:size]
    page = ListPage(rows, is_first=older_key is None)
    page.older_cursor = _cursor(rows[-1]) if rows and has_older else ""
    page.newer_cursor = _cursor(rows[0]) if rows and older_key else ""
    return page


def window_ending_page(conversations: QuerySet[Conversation], *, older: str, size: int) -> ListPage:
    """ "Reply window ending": the soonest end first (the oldest customer message), paged by
    keyset on (last_customer_message_at, id); a short list, so only forwards."""
    key = _parse_cursor(older)
    if key is not None and key[0] is not None:
        moment, pk = key
        conversations = conversations.filter(
            Q(last_customer_message_at__gt=moment) | Q(last_customer_message_at=moment, pk__gt=pk)
        )
    rows = list(conversations.order_by("last_customer_message_at", "pk")[: size + 1])
    page = ListPage(rows[:size], is_first=key is None)
    if len(rows) > size:
        last = rows[size - 1]
        stamp = last.last_customer_message_at.isoformat() if last.last_customer_message_at else ""
        page.older_cursor = f"{stamp}~{last.pk}"
    return page


def search_window_page(
    conversations: QuerySet[Conversation],
    *,
    q: str,
    older_key: tuple[datetime | None, int] | None,
    size: int,
) -> ListPage:
    """A page of a common term's matches, from the next window of conversations."""
    scope = conversations.filter(_after(*older_key)) if older_key else conversations
    scope = scope.annotate()  # the window needs no unread state
    matched, window_end = search_window(scope, q=q, order=LIST_ORDER)
    rows = list(conversations.filter(pk__in=matched).order_by(*LIST_ORDER)[: size + 1])
    page = ListPage(rows[:size], is_first=older_key is None)
    if len(rows) > size:
        page.older_cursor = _cursor(rows[size - 1])
    elif window_end is not None:
        moment, pk = window_end
        stamp = moment.isoformat() if moment else ""
        page.older_cursor = f"{stamp}~{pk}"
    return page


def unread_count(*, user: AbstractBaseUser | AnonymousUser, filters: ListFilters) -> int:
    """Unread conversations in the current view, counted up to UNREAD_CAP + 1 ("99+") so the
    count stays cheap on a large inbox. Not counted for search results."""
    if filters.q:
        return 0

    def unread() -> QuerySet[Conversation, Any]:
        return (
            conversation_list_queryset(user=user, filters=filters)
            .filter(_unread_annotation(user))
            .order_by()
            .values("pk")[: UNREAD_CAP + 1]
        )

    if filters.window == WINDOW_ENDING:  # it reads the clock: built each time
        return Conversation.objects.filter(pk__in=unread()).count()
    # Built from the agent, their role and the filters alone (their accounts a subquery).
    key = ("inbox.unread", user.pk, user.is_active, user_is_admin(user), filters)
    return compiled_count(key, unread)


def thread_messages(
    *, conversation: Conversation, before_id: int | None = None, size: int = THREAD_PAGE_SIZE
) -> tuple[list[Message], bool]:
    """The newest `size` messages (or those before `before_id`) in Meta-time order, with
    their reactions and authors; and whether earlier ones exist (one more row read, whose
    reactions are not)."""
    messages = Message.objects.filter(conversation=conversation).select_related("author")
    if before_id is not None:
        anchor = Subquery(
            Message.objects.filter(conversation=conversation, pk=before_id).values("timestamp")[:1]
        )
        # The bound alone is what the index can seek to: without it an earlier page is found
        # by reading every newer message first (25,000 of them halfway up a long thread).
        messages = messages.filter(timestamp__lte=anchor).filter(
            Q(timestamp__lt=anchor) | Q(timestamp=anchor, pk__lt=before_id)
        )
    newest_first = list(messages.order_by("-timestamp", "-id")[: size + 1])
    page = newest_first[:size][::-1]
    prefetch_related_objects(
        page, Prefetch("reactions", queryset=Reaction.objects.order_by("actor"))
    )
    return page, len(newest_first) > size


def thread_page_end(*, conversation: Conversation, before_id: int | None) -> Subquery | None:
    """Where a page of earlier messages ends: the time of the message it comes before (an
    expression, evaluated in the query that uses it), or None for the newest page."""
    if before_id is None:
        return None
    return Subquery(
        Message.objects.filter(conversation=conversation, pk=before_id).values("timestamp")[:1]
    )


def thread_fingerprint(*, conversation: Conversation) -> str:
    """Changes whenever anything the newest page of the thread shows changes: a new, edited
    or unsent message, a delivery status, a reaction added, changed or removed. One aggregate
    query; the live poll answers 204 while it holds. Status counts and edit sums are in it
    because a conditional UPDATE (a send being claimed) need not touch updated_at."""
    statuses = {
        f"n_{status or 'in'}": Count("id", distinct=True, filter=Q(status=status))
        for status in Message.Status.values
    }
    # Only the newest page can change on screen: a fixed cost however long the thread.
    shown = (
        Message.objects.filter(conversation=conversation)
        .order_by("-timestamp", "-id")
        .values("pk")[:THREAD_PAGE_SIZE]
    )
    stats = Message.objects.filter(pk__in=shown).aggregate(
        n_messages=Count("id", distinct=True),
        n_deleted=Count("id", distinct=True, filter=Q(is_deleted=True)),
        edits=Sum("edit_count"),
        last_update=Max("updated_at"),
        n_reactions=Count("reactions", distinct=True),
        last_reacted=Max("reactions__reacted_at"),
        last_reaction_added=Max("reactions__created_at"),
        **statuses,
    )
    parts = [f"{key}={value}" for key, value in sorted(stats.items())]
    return hashlib.blake2b("|".join(parts).encode(), digest_size=8).hexdigest()


def assignable_agents(*, account: InstagramAccount) -> QuerySet[User]:
    """Who a conversation of `account` can be assigned to: its members and the admins (the
    fields the assignee menu shows)."""
    return (
        account_agents(account_id=account.pk)
        .only("id", "username", "first_name", "last_name")
        .order_by("first_name", "username")
    )


def user_accounts(*, user: AbstractBaseUser | AnonymousUser) -> list[InstagramAccount]:
    return list(accounts_for_user(user).order_by("username", "ig_id"))


REFERRALS_LOOKED_AT = 20


def conversation_referrals(*, conversation: Conversation) -> list[Message]:
    """The customer's newest messages that carry a referral (an ig.me link or ad followed,
    alone, in a button's tap or in a message), newest first: where the customer came from.
    Read from the partial index of such messages (`msg_referral_idx`, whose condition this
    is), so a long thread with none costs the same as a short one."""
    return list(
        Message.objects.filter(CARRIES_REFERRAL, conversation=conversation).order_by(
            "-timestamp", "-id"
        )[:REFERRALS_LOOKED_AT]
    )


def conversation_labels(*, conversation: Conversation) -> list[Label]:
    return list(conversation.labels.order_by("name"))


LABEL_SUGGESTIONS = 200


def label_suggestions() -> list[Label]:
    """The labels an agent can pick from when adding one (bounded)."""
    return list(Label.objects.order_by("name")[:LABEL_SUGGESTIONS])


def next_open_conversation(
    *, user: AbstractBaseUser | AnonymousUser, filters: ListFilters, after: Conversation
) -> Conversation | None:
    """The conversation below `after` in the (open) list the agent works from, or the top
    one when it was the last: where "close and go on" goes."""
    open_filters = replace(filters, status=Conversation.Status.OPEN, q="")
    candidates = conversation_list_queryset(user=user, filters=open_filters).exclude(pk=after.pk)
    below = candidates.filter(_after(after.last_message_at, after.pk)).order_by(*LIST_ORDER)
    return below.first() or candidates.order_by(*LIST_ORDER).first()
