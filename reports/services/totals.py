"""Keeping `HourTotal` equal to the sum of `Activity`: a conversation's rebuild replaces its
activity rows, and adds the difference (new less old) to its account's hours, in one
statement per batch (an upsert that adds). Rebuilds run one at a time (the summary's state
row is locked), so two never add to the same hour at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Sum

from reports.models import Activity, HourTotal

Key = tuple[int, datetime]  # (account, hour)
Counts = list[int]  # [messages in, messages out, episodes opened]


def hour_totals_before(conversation_ids: Sequence[int]) -> dict[Key, Counts]:
    """What these conversations' activity adds to each hour now (before their rebuild)."""
    rows = (
        Activity.objects.filter(conversation_id__in=conversation_ids)
        .values_list("account_id", "hour")
        .order_by()
        .annotate(Sum("messages_in"), Sum("messages_out"), Sum("episodes_opened"))
    )
    return {(account, hour): [a, b, c] for account, hour, a, b, c in rows}


def hour_totals_apply(*, before: dict[Key, Counts], after: Iterable[Activity]) -> None:
    """Add the difference between the activity rows written (`after`) and `before`."""
    delta: dict[Key, Counts] = defaultdict(lambda: [0, 0, 0])
    for key, counts in before.items():
        delta[key] = [-n for n in counts]
    for row in after:
        counts = delta[(row.account_id, row.hour)]
        counts[0] += row.messages_in
        counts[1] += row.messages_out
        counts[2] += row.episodes_opened
    changes = [(key, counts) for key, counts in delta.items() if any(counts)]
    if not changes:
        return
    ops = connection.ops
    table = ops.quote_name(HourTotal._meta.db_table)
    columns = ["messages_in", "messages_out", "episodes_opened"]
    adds = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)
    sql = (
        f"INSERT INTO {table} (account_id, hour, {', '.join(columns)}) "  # noqa: S608
        f"VALUES (%s, %s, %s, %s, %s) ON CONFLICT (account_id, hour) DO UPDATE SET {adds}"
    )
    params = [
        [account, ops.adapt_datetimefield_value(hour), *counts]
        for (account, hour), counts in sorted(changes)
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def conversation_totals_remove(*, instance: Any, **_: Any) -> None:
    """A conversation is being deleted (its activity rows go with it): take them out of the
    totals first (the `pre_delete` signal, in the deletion's transaction)."""
    hour_totals_apply(before=hour_totals_before([instance.pk]), after=())
