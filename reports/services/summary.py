"""Keeping the reports' summary (`Episode`, `Activity`) in step with the inbox.

The summary is rebuilt per conversation from its messages and status changes
(`periods.periods_compute`), never patched: out-of-order deliveries, echoes folded into our
sends, retries that end in failure, all come out right by construction. What to rebuild is
found from the inbox's own clocks: a conversation's `updated_at` moves with every message
stored in it, every close, reopen and assignment; one of our messages' `updated_at` moves
when Meta accepts or refuses it. Each catch-up rebuilds what changed since the last one
(the beat task's every minute, less `OVERLAP`, for transactions that committed late); the page
and the CSV catch up before they read, and the beat task keeps what they find small.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from itertools import islice

from django.db import transaction
from django.utils import timezone

from inbox.models import Conversation, Message
from reports.models import Activity, Episode, HourTotal, StatusChange, SummaryState

from .periods import MessageFacts, Periods, periods_compute
from .totals import hour_totals_apply, hour_totals_before

logger = logging.getLogger(__name__)

OVERLAP = timedelta(seconds=30)
CHUNK = 500

_MESSAGE_COLUMNS = ("direction", "origin", "status", "timestamp", "sent_at", "author_id")


def summaries_refresh(*, conversation_ids: Iterable[int]) -> int:
    """Rebuild these conversations' episodes and activity; returns how many."""
    done = 0
    for chunk in _chunks(sorted(set(conversation_ids)), CHUNK):
        with transaction.atomic():
            _lock()
            _refresh_chunk(chunk)
        done += len(chunk)
    return done


def _lock() -> SummaryState:
    """The state row, locked until the transaction ends: one rebuild at a time."""
    SummaryState.objects.get_or_create(pk=1)
    return SummaryState.objects.select_for_update().get(pk=1)


class SummaryNotReady(Exception):
    """The summary was never built, and building it is too big a job for a web request."""


def summaries_catch_up(
    *, settle: bool = False, first_build_limit: int | None = None, now: datetime | None = None
) -> int:
    """Rebuild what changed since the last catch-up; one catch-up at a time (the state row
    is locked). Returns how many conversations were rebuilt.

    The first time, everything is built, a chunk per transaction (`summaries_rebuild_all`);
    with more than `first_build_limit` conversations that raises `SummaryNotReady` instead
    (a web request leaves it to the task). The page's catch-up reads changes since the last
    one exactly, so a reload costs only what changed meanwhile. A change stamped just before
    that moment whose transaction committed just after it is not seen then: the beat task's
    catch-up (`settle`) reads again from its own last run less `OVERLAP`, every minute."""
    with transaction.atomic():
        state = _lock()
        mark = now or timezone.now()
        first = state.caught_up_at is None
        if not first:
            assert state.caught_up_at is not None
            since = (state.settled_at or state.caught_up_at) - OVERLAP if settle else None
            done = summaries_refresh(conversation_ids=_changed_since(since or state.caught_up_at))
            state.caught_up_at = max(mark, state.caught_up_at)
            if settle:
                state.settled_at = mark
            state.save(update_fields=["caught_up_at", "settled_at"])
    if first:
        if first_build_limit is not None and Conversation.objects.count() > first_build_limit:
            raise SummaryNotReady
        done = summaries_rebuild_all(now=mark)
    if done > CHUNK:
        logger.info("reports summary: %s conversations rebuilt", done)
    return done


def summaries_rebuild_all(*, now: datetime | None = None) -> int:
    """Rebuild every conversation (after a deploy, or to heal anything missed), a chunk per
    transaction so the inbox is never held up."""
    mark = now or timezone.now()
    with transaction.atomic():  # from nothing: totals drift-free whatever came before
        _lock()
        Activity.objects.all().delete()
        HourTotal.objects.all().delete()
    ids = list(Conversation.objects.order_by("pk").values_list("pk", flat=True))
    done = summaries_refresh(conversation_ids=ids)
    SummaryState.objects.update_or_create(pk=1, defaults={"caught_up_at": mark, "settled_at": mark})
    return done


def _changed_since(moment: datetime) -> set[int]:
    changed = set(Conversation.objects.filter(updated_at__gte=moment).values_list("pk", flat=True))
    changed.update(
        Message.objects.filter(
            direction=Message.Direction.OUTBOUND, updated_at__gte=moment
        ).values_list("conversation_id", flat=True)
    )
    return changed


def _refresh_chunk(conversation_ids: Sequence[int]) -> None:
    conversations = Conversation.objects.filter(pk__in=conversation_ids).values_list(
        "pk", "account_id", "status", "updated_at"
    )
    messages: dict[int, list[MessageFacts]] = defaultdict(list)
    rows = Message.objects.filter(conversation_id__in=conversation_ids).order_by()
    for conversation_id, *values in rows.values_list("conversation_id", *_MESSAGE_COLUMNS):
        messages[conversation_id].append(MessageFacts(*values))
    changes: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for conversation_id, status, at in StatusChange.objects.filter(
        conversation_id__in=conversation_ids
    ).values_list("conversation_id", "status", "at"):
        changes[conversation_id].append((status, at))

    before = hour_totals_before(conversation_ids)
    Episode.objects.filter(conversation_id__in=conversation_ids).delete()
    Activity.objects.filter(conversation_id__in=conversation_ids).delete()
    episodes: list[Episode] = []
    activity: list[Activity] = []
    closes: list[StatusChange] = []
    for conversation_id, account_id, status, updated_at in conversations:
        periods = periods_compute(
            messages=messages.get(conversation_id, ()),
            status_changes=changes.get(conversation_id, ()),
            closed_unrecorded_at=updated_at if status == Conversation.Status.CLOSED else None,
        )
        if periods.unrecorded_close is not None:
            closes.append(
                StatusChange(
                    conversation_id=conversation_id,
                    status=Conversation.Status.CLOSED,
                    at=periods.unrecorded_close,
                )
            )
        episodes += _episode_rows(conversation_id, account_id, periods)
        activity += _activity_rows(conversation_id, account_id, periods)
    Episode.objects.bulk_create(episodes, batch_size=1000)
    Activity.objects.bulk_create(activity, batch_size=1000)
    hour_totals_apply(before=before, after=activity)
    StatusChange.objects.bulk_create(closes, batch_size=1000)


def _episode_rows(conversation_id: int, account_id: int, periods: Periods) -> Iterator[Episode]:
    for facts in periods.episodes:
        yield Episode(
            conversation_id=conversation_id,
            account_id=account_id,
            started_at=facts.started_at,
            last_customer_message_at=facts.last_customer_message_at,
            first_response_at=facts.first_response_at,
            first_response_seconds=facts.first_response_seconds,
            responder_id=facts.responder_id,
            responder_origin=facts.responder_origin,
            last_response_at=facts.last_response_at,
            closed_at=facts.closed_at,
            resolution_seconds=facts.resolution_seconds,
            last_activity_at=facts.last_activity_at,
            messages_in=facts.messages_in,
            messages_out=facts.messages_out,
        )


def _activity_rows(conversation_id: int, account_id: int, periods: Periods) -> Iterator[Activity]:
    for (hour, author_id), (messages_in, messages_out, opened) in periods.activity.items():
        yield Activity(
            conversation_id=conversation_id,
            account_id=account_id,
            hour=hour,
            author_id=author_id,
            messages_in=messages_in,
            messages_out=messages_out,
            episodes_opened=opened,
        )


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
