"""The report's figures: SQL aggregates over the summary (`Episode`, `Activity`), a few
thousand rows at most leaving the database whatever the range. Percentiles are the
database's own (`percentile_cont`) on PostgreSQL; other databases (SQLite in development
and tests) get the same interpolation in Python."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q, QuerySet, Sum
from django.utils import timezone

from inbox.models import Conversation, MessageOrigin
from reports.forms import ReportScope
from reports.models import Activity, Episode, HourTotal
from reports.text import duration

HOUR = 3600
DAY = 24 * HOUR
WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
LAST_HOURS = timedelta(hours=2)
# First-response distribution: (label, upper bound in seconds, inclusive); None: no bound.
RESPONSE_BUCKETS: list[tuple[str, int | None]] = [
    ("Under 5 min", 5 * 60),
    ("5 to 15 min", 15 * 60),
    ("15 to 60 min", HOUR),
    ("1 to 4 h", 4 * HOUR),
    ("4 to 24 h", DAY),
    ("1 to 7 days", 7 * DAY),
    ("Over 7 days", None),
]
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


class PercentileCont(Aggregate):
    """PostgreSQL's `percentile_cont(f) WITHIN GROUP (ORDER BY x)`."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


def percentile_cont(values: list[int], fraction: float) -> float | None:
    """The same interpolation as PostgreSQL's `percentile_cont`; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


Percentiles = dict[str, tuple[str, float]]  # name: (column, fraction)


def _figures(
    queryset: QuerySet[Any], counts: dict[str, Any], percentiles: Percentiles
) -> dict[str, Any]:
    """One aggregate over `queryset`: `counts` and `percentiles` (NULLs left out), in one
    scan on PostgreSQL."""
    if connection.vendor == "postgresql":
        wanted = {name: PercentileCont(column, f) for name, (column, f) in percentiles.items()}
        return queryset.aggregate(**counts, **wanted)
    found = queryset.aggregate(**counts)
    columns = sorted({column for column, _ in percentiles.values()})
    values: dict[str, list[int]] = {column: [] for column in columns}
    for row in queryset.order_by().values_list(*columns):
        for column, value in zip(columns, row, strict=True):
            if value is not None:
                values[column].append(value)
    for name, (column, fraction) in percentiles.items():
        found[name] = percentile_cont(values[column], fraction)
    return found


def _grouped_figures(
    queryset: QuerySet[Any],
    group: tuple[str, ...],
    counts: dict[str, Any],
    percentiles: Percentiles,
) -> list[dict[str, Any]]:
    """`_figures` per value of the `group` columns."""
    grouped = queryset.values(*group).order_by()
    if connection.vendor == "postgresql":
        wanted = {name: PercentileCont(column, f) for name, (column, f) in percentiles.items()}
        return list(grouped.annotate(**counts, **wanted))
    rows = list(grouped.annotate(**counts))
    for row in rows:
        subset = queryset.filter(**{column: row[column] for column in group})
        row.update(_figures(subset, {}, percentiles))
    return rows


def episodes_in(scope: ReportScope) -> QuerySet[Episode]:
    """Episodes a customer's message opened in the range."""
    return Episode.objects.filter(
        scope.conversations_q(), started_at__gte=scope.start, started_at__lt=scope.end
    )


@dataclass
class Times:
    episodes: int
    answered: int
    closed: int
    response_p50: float | None
    response_p90: float | None
    resolution_p50: float | None
    resolution_p90: float | None
    distribution: list[tuple[str, int]]


@dataclass
class Window:
    total: int
    rows: list[tuple[str, str, int]]  # (key, label, count)
    waiting_now: int

    def share(self, count: int) -> float:
        return 100.0 * count / self.total if self.total else 0.0


def report_episodes(scope: ReportScope, *, now: datetime) -> tuple[Times, Window]:
    """Response and resolution times, and how the episodes opened in the range were
    answered by Meta's window rules: one scan of them."""
    counts: dict[str, Any] = {
        "episodes": Count("pk"),
        "answered": Count("pk", filter=Q(first_response_at__isnull=False)),
        "closed": Count("pk", filter=Q(closed_at__isnull=False)),
    }
    low = -1
    for index, (_, high) in enumerate(RESPONSE_BUCKETS):
        bucket = Q(first_response_seconds__gt=low)
        if high is not None:
            bucket &= Q(first_response_seconds__lte=high)
        counts[f"b{index}"] = Count("pk", filter=bucket)
        low = high if high is not None else low
    unanswered = Q(first_response_at__isnull=True)
    closed_window = Q(last_customer_message_at__lte=now - HUMAN_AGENT_WINDOW)
    counts |= {
        "day": Count(
            "pk", filter=Q(first_response_seconds__gt=HOUR, first_response_seconds__lte=DAY)
        ),
        "never": Count("pk", filter=unanswered & closed_window),
        "open": Count("pk", filter=unanswered & ~closed_window),
    }
    found = _figures(
        episodes_in(scope),
        counts,
        {
            "r50": ("first_response_seconds", 0.5),
            "r90": ("first_response_seconds", 0.9),
            "s50": ("resolution_seconds", 0.5),
            "s90": ("resolution_seconds", 0.9),
        },
    )
    distribution = [(label, found[f"b{n}"]) for n, (label, _) in enumerate(RESPONSE_BUCKETS)]
    times = Times(
        episodes=found["episodes"],
        answered=found["answered"],
        closed=found["closed"],
        response_p50=found["r50"],
        response_p90=found["r90"],
        resolution_p50=found["s50"],
        resolution_p90=found["s90"],
        distribution=distribution,
    )
    within_hour = sum(count for _, count in distribution[:3])
    week = distribution[5][1]
    later = distribution[6][1]
    rows = [
        ("hour", "Answered within 1 hour", within_hour),
        ("day", "Within 24 hours (plain reply)", sum(count for _, count in distribution[3:5])),
        ("week", "Within 7 days (human-agent tag)", week),
        ("never", "Never: the 7 days ran out", found["never"]),
        ("open", "Not yet: the window is still open", found["open"]),
    ]
    if later:
        rows.insert(3, ("later", "After 7 days (from the app)", later))
    window = Window(
        total=found["episodes"], rows=rows, waiting_now=report_waiting_now(scope, now=now)
    )
    return times, window


def report_times(scope: ReportScope) -> Times:
    return report_episodes(scope, now=timezone.now())[0]


def report_window(scope: ReportScope, *, now: datetime) -> Window:
    return report_episodes(scope, now=now)[1]


def report_waiting_now(scope: ReportScope, *, now: datetime) -> int:
    """Open episodes whose customer wrote last, 22 to 24 hours ago: under two hours left
    before a reply needs the human-agent tag."""
    return (
        Episode.objects.filter(
            scope.conversations_q(),
            closed_at__isnull=True,
            last_customer_message_at__gt=now - WINDOW,
            last_customer_message_at__lte=now - WINDOW + LAST_HOURS,
        )
        .filter(
            Q(last_response_at__isnull=True) | Q(last_response_at__lt=F("last_customer_message_at"))
        )
        .count()
    )


@dataclass
class Volume:
    days: list[tuple[date, int, int, int]]  # (day, conversations opened, in, out)
    heat: list[tuple[str, list[int]]]  # (weekday, customer messages per local hour)
    heat_max: int = 0
    totals: dict[str, int] = field(default_factory=dict)


def report_volume(scope: ReportScope) -> Volume:
    """Per day (the report's time zone): conversations opened, messages in and out; and the
    customers' messages by weekday and hour. Activity is kept per UTC hour, folded here into
    local days and hours (a zone half an hour off UTC shifts by its half hour)."""
    per_day: dict[date, list[int]] = {day: [0, 0, 0] for day in scope.days}
    heat = [[0] * 24 for _ in WEEKDAYS]
    # Per conversation only when a filter needs the conversations (an agent's, labels).
    source = HourTotal.objects.all() if scope.by_account_only else Activity.objects.all()
    hours = (
        source.filter(scope.conversations_q(), hour__gte=scope.start, hour__lt=scope.end)
        .values("hour")
        .order_by()
        .annotate(
            inbound=Sum("messages_in"),
            outbound=Sum("messages_out"),
            opened=Sum("episodes_opened"),
        )
    )
    for row in hours:
        local = row["hour"].astimezone(scope.tz)
        counts = per_day.get(local.date())
        if counts is not None:
            counts[0] += row["opened"]
            counts[1] += row["inbound"]
            counts[2] += row["outbound"]
        heat[local.weekday()][local.hour] += row["inbound"]
    days = [(day, counts[0], counts[1], counts[2]) for day, counts in per_day.items()]
    return Volume(
        days=days,
        heat=list(zip(WEEKDAYS, heat, strict=True)),
        heat_max=max((max(row) for row in heat), default=0),
        totals={
            "opened": sum(d[1] for d in days),
            "in": sum(d[2] for d in days),
            "out": sum(d[3] for d in days),
        },
    )


@dataclass
class AgentRow:
    name: str
    conversations: int = 0
    replies: int = 0
    first_responses: int = 0
    response_p50: float | None = None
    open_now: int = 0

    @property
    def response_p50_text(self) -> str:
        return duration(self.response_p50)


APP_KEY = "app"


def report_agents(scope: ReportScope) -> list[AgentRow]:
    """Per agent: conversations they replied in and replies Meta accepted (in the range),
    first responses and their median (episodes opened in the range), and conversations
    assigned to them that are open now. The Instagram app's echoes get their own line."""
    rows: dict[Any, AgentRow] = defaultdict(lambda: AgentRow(name=""))
    replies = (
        Activity.objects.filter(
            scope.conversations_q(),
            hour__gte=scope.start,
            hour__lt=scope.end,
            author__isnull=False,
        )
        .values("author")
        .order_by()
        .annotate(replies=Sum("messages_out"), conversations=Count("conversation", distinct=True))
    )
    for row in replies:
        rows[row["author"]].replies = row["replies"]
        rows[row["author"]].conversations = row["conversations"]
    answered_by_someone = Q(responder__isnull=False) | Q(
        responder_origin=MessageOrigin.BUSINESS_APP
    )
    first = _grouped_figures(
        episodes_in(scope).filter(answered_by_someone),
        ("responder", "responder_origin"),
        {"n": Count("pk")},
        {"p50": ("first_response_seconds", 0.5)},
    )
    for row in first:
        app = row["responder_origin"] == MessageOrigin.BUSINESS_APP
        key = APP_KEY if app else row["responder"]
        rows[key].first_responses += row["n"]
        rows[key].response_p50 = row["p50"]
    open_now = (
        Conversation.objects.filter(
            scope.conversations_q(path=""),
            status=Conversation.Status.OPEN,
            assignee__isnull=False,
        )
        .values("assignee")
        .order_by()
        .annotate(n=Count("pk"))
    )
    for row in open_now:
        rows[row["assignee"]].open_now = row["n"]
    users = get_user_model()._default_manager.filter(pk__in=[k for k in rows if k != APP_KEY])
    names = dict(users.values_list("pk", "username"))
    for key, agent_row in rows.items():
        agent_row.name = "Instagram app" if key == APP_KEY else names.get(key, f"user {key}")
    return sorted(rows.values(), key=lambda r: (r.name == "Instagram app", r.name.lower()))
