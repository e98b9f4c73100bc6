"""Snooze: a conversation leaves the Open list until a time, and comes back then (the beat's
`conversations_wake_due`) or as soon as the customer writes (the summary UPDATE of intake
clears `snoozed_until`), unread. Times are chosen in the agent's own time zone."""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from inbox.models import Conversation, ConversationReadState
from inbox.services.live import live_touch_many
from inbox.services.window import WindowState, conversation_reply_window
from inbox.signals import conversation_status_changed
from team.models import ActivityEvent, ActivityKind
from team.services import activity_record

logger = logging.getLogger(__name__)

AnyUser = AbstractBaseUser | AnonymousUser
MORNING = time(9, 0)
# A snooze longer than this is a mistake (a year typed wrong), not a plan.
LONGEST = timedelta(days=366)


class SnoozeRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SnoozePreset:
    key: str  # the form's `preset` value
    label: str  # "1 hour", "Tomorrow 9:00", "Next Monday 9:00"
    until: datetime


def agent_timezone(name: str) -> tzinfo:
    """The agent's time zone, as their browser names it ("Europe/Paris"); the server's own
    when it names none or an unknown one."""
    try:
        return zoneinfo.ZoneInfo(name) if name else timezone.get_current_timezone()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_current_timezone()


def _morning(day: datetime, days_on: int, tz: tzinfo) -> datetime:
    date = (day + timedelta(days=days_on)).date()
    return datetime.combine(date, MORNING, tzinfo=tz)


def snooze_presets(*, tz: tzinfo, now: datetime | None = None) -> list[SnoozePreset]:
    now = now or timezone.now()
    local = now.astimezone(tz)
    monday = 7 - local.weekday()  # next Monday: a week on when today is Monday
    return [
        SnoozePreset("hour", "1 hour", now + timedelta(hours=1)),
        SnoozePreset("tomorrow", "Tomorrow 9:00", _morning(local, 1, tz)),
        SnoozePreset("monday", "Next Monday 9:00", _morning(local, monday, tz)),
    ]


def snooze_until_parse(
    *, preset: str, custom: datetime | None, tz: tzinfo, now: datetime | None = None
) -> datetime:
    """The time a snooze form asks for: a preset's, or the custom time (a naive local time
    in the agent's zone). Refused when missing, unknown, past or absurdly far."""
    now = now or timezone.now()
    if preset:
        for choice in snooze_presets(tz=tz, now=now):
            if choice.key == preset:
                return choice.until
        raise SnoozeRefused("Unknown snooze choice.")
    if custom is None:
        raise SnoozeRefused("Choose how long to snooze, or a date and time.")
    until = custom.replace(tzinfo=tz) if timezone.is_naive(custom) else custom
    if until <= now:
        raise SnoozeRefused("That time has passed: choose a time in the future.")
    if until - now > LONGEST:
        raise SnoozeRefused("Snooze for a year at most.")
    return until


def snooze_window_warning(*, conversation: Conversation, until: datetime) -> str:
    """What the reply window will allow when the snooze ends, if less than now."""
    now_window = conversation_reply_window(conversation=conversation)
    then = conversation_reply_window(conversation=conversation, now=until)
    if then.state == now_window.state or now_window.state == WindowState.CLOSED:
        return ""
    if then.state == WindowState.HUMAN_AGENT:
        return "The 24-hour reply window closes before then: replies will need the human agent tag."
    return (
        "The reply window closes before then: no reply can be sent until the customer writes again."
    )


def conversation_snooze(
    *, conversation: Conversation, until: datetime, actor: AnyUser, now: datetime | None = None
) -> Conversation:
    """Out of the Open list until `until` (a closed conversation is opened again)."""
    if until <= (now or timezone.now()):
        raise SnoozeRefused("That time has passed: choose a time in the future.")
    reopened = conversation.status != Conversation.Status.OPEN
    conversation.snoozed_until = until
    conversation.status = Conversation.Status.OPEN
    with transaction.atomic():
        conversation.save(update_fields=["snoozed_until", "status", "updated_at"])
        if reopened:  # a resolved conversation snoozed: open again, for the reports too
            conversation_status_changed.send(
                sender=Conversation,
                conversation=conversation,
                status=conversation.status,
                actor=actor if actor.pk is not None else None,
                at=timezone.now(),
            )
        activity_record(
            conversation=conversation,
            actor=actor,
            kind=ActivityKind.SNOOZED,
            detail=date_format(timezone.localtime(until), "DATETIME_FORMAT"),
        )
    logger.info("conversation %s snoozed by user %s", conversation.pk, actor.pk)
    return conversation


def conversation_unsnooze(*, conversation: Conversation, actor: AnyUser) -> Conversation:
    if conversation.snoozed_until is None:
        return conversation
    conversation.snoozed_until = None
    with transaction.atomic():
        conversation.save(update_fields=["snoozed_until", "updated_at"])
        activity_record(conversation=conversation, actor=actor, kind=ActivityKind.UNSNOOZED)
    logger.info("conversation %s woken by user %s", conversation.pk, actor.pk)
    return conversation


def conversations_wake_due(*, now: datetime | None = None) -> list[int]:
    """Wake every conversation whose snooze has ended: back in the Open list, unread for
    everyone (their read states go). The ids woken."""
    now = now or timezone.now()
    due = list(
        Conversation.objects.filter(snoozed_until__lte=now).values_list("pk", flat=True)[:1000]
    )
    if not due:
        return []
    with transaction.atomic():
        # Only those still due: the customer may have woken one meanwhile.
        woken = list(
            Conversation.objects.select_for_update()
            .filter(pk__in=due, snoozed_until__lte=now)
            .values_list("pk", "account_id")
        )
        due = [pk for pk, _ in woken]
        live_touch_many(conversations=[(account_id, pk) for pk, account_id in woken])
        Conversation.objects.filter(pk__in=due).update(snoozed_until=None, updated_at=now)
        ConversationReadState.objects.filter(conversation_id__in=due).delete()
        ActivityEvent.objects.bulk_create(
            ActivityEvent(
                conversation_id=pk,
                account_id=account_id,
                actor=None,
                kind=ActivityKind.UNSNOOZED,
            )
            for pk, account_id in woken
        )
    logger.info("woke %d snoozed conversations", len(due))
    return due
