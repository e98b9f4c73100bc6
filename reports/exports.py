"""The CSV exports, streamed: rows are read with a server-side cursor (`iterator()`) and
written as they come, so a year of conversations never sits in memory."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

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
    "conversation__account__username",
    "conversation__customer_igsid",
    "conversation__assignee__username",
    "started_at",
    "first_response_at",
    "first_response_seconds",
    "closed_at",
    "resolution_seconds",
    "messages_in",
    "messages_out",
    "responder__username",
    "responder_origin",
)


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
    of them, and `episodes` says how many there were."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CONVERSATION_COLUMNS)
    episodes = (
        Episode.objects.filter(
            scope.conversations_q(),
            started_at__lt=scope.end,
            last_activity_at__gte=scope.start,
        )
        .order_by("conversation_id", "started_at", "id")
        .values_list(*_EPISODE_VALUES)
    )
    for _, group in groupby(episodes.iterator(chunk_size=2000), key=lambda row: row[0]):
        yield writer.writerow(_conversation_row(list(group)))


def _conversation_row(group: list[tuple[Any, ...]]) -> list[Any]:
    (
        conversation_id,
        account,
        igsid,
        assignee,
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
    return [
        account,
        igsid,
        iso(started_at),
        iso(response_at),
        "" if response_seconds is None else response_seconds,
        iso(closed_at),
        "" if resolution_seconds is None else resolution_seconds,
        assignee or "",
        sum(row[9] for row in group),
        sum(row[10] for row in group),
        "Instagram app" if origin == "business_app" else (responder or ""),
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
