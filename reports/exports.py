"""The CSV exports, streamed: rows are read with a server-side cursor (`iterator()`) and
written as they come, so a year of conversations never sits in memory."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from itertools import groupby, islice
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from inbox.models import Conversation
from reports.forms import ReportScope
from reports.models import Episode
from reports.selectors import report_agents

CONVERSATION_COLUMNS = [
    "account",
    "customer_igsid",
    "first_customer_message_at",
    "first_response_at",
    "first_response_seconds",
    "resolved_at",
    "resolution_seconds",
    "assignee",
    "messages_in",
    "messages_out",
    "first_responder",
    "episodes",
    "conversation_id",
]
AGENT_COLUMNS = [
    "agent",
    "conversations",
    "replies",
    "first_responses",
    "median_first_response_seconds",
    "open_now",
]
_EPISODE_VALUES = (
    "conversation_id",
    "started_at",
    "first_response_at",
    "first_response_seconds",
    "closed_at",
    "resolution_seconds",
    "messages_in",
    "messages_out",
    "responder_id",
    "responder_origin",
)
BATCH = 1000  # conversations whose names are read at once


class _Echo:
    """A file-like object whose `write` returns what it was given (csv.writer → stream)."""

    def write(self, value: str) -> str:
        return value


def iso(moment: datetime | None) -> str:
    """ISO-8601 in UTC, to the second: 2026-03-01T09:30:00Z."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def conversations_csv(scope: ReportScope) -> Iterator[str]:
    """One row per conversation active in the range (an episode of it overlaps the range:
    opened before its end, with a message or its closing after its start). The row
    describes the conversation's latest such episode, so a reopened conversation shows its
    new first response, measured from the reopening message; messages are counted over all
    of them, and `episodes` says how many there were.

    Episodes come in the order of their (conversation, start) index, with no join, so the
    first rows leave before the database has read the rest; names are read per batch."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CONVERSATION_COLUMNS)
    with _reading():
        yield from _conversation_rows(scope, writer)


def _reading() -> AbstractContextManager[Any]:
    """A transaction around the stream on PostgreSQL: outside one, Django declares its
    server-side cursor WITH HOLD, which PostgreSQL materialises whole when the statement's
    own transaction commits: the first row would wait for the last. (Not on SQLite, whose
    transactions here take the write lock, and whose cursors stream anyway.)"""
    return transaction.atomic() if connection.vendor == "postgresql" else nullcontext()


def _conversation_rows(scope: ReportScope, writer: Any) -> Iterator[str]:
    episodes = (
        Episode.objects.filter(
            scope.conversations_q(),
            started_at__lt=scope.end,
            last_activity_at__gte=scope.start,
        )
        .order_by("conversation_id", "started_at")
        .values_list(*_EPISODE_VALUES)
    )
    groups = groupby(episodes.iterator(chunk_size=2000), key=lambda row: row[0])
    users: dict[int, str] = {}
    while batch := [list(group) for _, group in islice(groups, BATCH)]:
        names = _names([group[0][0] for group in batch], users)
        for group in batch:
            yield writer.writerow(_conversation_row(group, names, users))


def _names(conversation_ids: list[int], users: dict[int, str]) -> dict[int, tuple[str, str, str]]:
    """{conversation: (account, customer IGSID, assignee)}; fills `users` (id: username)."""
    rows = Conversation.objects.filter(pk__in=conversation_ids).values_list(
        "pk", "account__username", "customer_igsid", "assignee_id"
    )
    found = {pk: (account, igsid, assignee) for pk, account, igsid, assignee in rows}
    _usernames({assignee for _, _, assignee in found.values() if assignee}, users)
    return {
        pk: (account, igsid, users.get(assignee, "") if assignee else "")
        for pk, (account, igsid, assignee) in found.items()
    }


def _usernames(ids: set[int], users: dict[int, str]) -> None:
    missing = ids - users.keys()
    if missing:
        model = get_user_model()._default_manager
        users.update(model.filter(pk__in=missing).values_list("pk", "username"))


def _conversation_row(
    group: list[tuple[Any, ...]], names: dict[int, tuple[str, str, str]], users: dict[int, str]
) -> list[Any]:
    (
        conversation_id,
        started_at,
        response_at,
        response_seconds,
        closed_at,
        resolution_seconds,
        _,
        _,
        responder,
        origin,
    ) = group[-1]
    account, igsid, assignee = names.get(conversation_id, ("", "", ""))
    if responder:
        _usernames({responder}, users)
    return [
        account,
        igsid,
        iso(started_at),
        iso(response_at),
        "" if response_seconds is None else response_seconds,
        iso(closed_at),
        "" if resolution_seconds is None else resolution_seconds,
        assignee,
        sum(row[6] for row in group),
        sum(row[7] for row in group),
        "Instagram app" if origin == "business_app" else users.get(responder, ""),
        len(group),
        conversation_id,
    ]


def agents_csv(scope: ReportScope) -> Iterable[str]:
    """The per-agent table (one row per agent: small, but streamed like the other)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(AGENT_COLUMNS)
    for row in report_agents(scope):
        yield writer.writerow(
            [
                row.name,
                row.conversations,
                row.replies,
                row.first_responses,
                "" if row.response_p50 is None else round(row.response_p50),
                row.open_now,
            ]
        )
