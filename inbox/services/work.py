"""Agents working the inbox: assignment, open/closed, read state. Every change of
assignment or status is recorded in the activity log (`team.services.activity_record`)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone

from accounts.roles import accounts_for_user
from inbox.models import Conversation, ConversationReadState, Message
from inbox.services.conversations import message_moves_window
from inbox.services.live import live_touch_reader
from inbox.signals import conversation_status_changed
from team.models import ActivityEvent, ActivityKind
from team.services import activity_record

logger = logging.getLogger(__name__)

CUSTOMER_WROTE = "the customer wrote"

AnyUser = AbstractBaseUser | AnonymousUser


class WorkRefused(Exception):
    """An action the agent may not take; `.message` says why, for the page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _user_pk(user: AnyUser) -> int:
    if user.pk is None:
        raise WorkRefused("Log in first.")
    return int(user.pk)


def _save(
    conversation: Conversation,
    *fields: str,
    actor: AnyUser,
    kind: ActivityKind,
    detail: str = "",
) -> None:
    """Save the change and its line in the activity log together."""
    with transaction.atomic():
        conversation.save(update_fields=[*fields, "updated_at"])
        activity_record(conversation=conversation, actor=actor, kind=kind, detail=detail)


def _save_status(
    conversation: Conversation, *fields: str, actor: AnyUser, kind: ActivityKind
) -> None:
    """Save the status, its line in the activity log, and tell who keeps its history
    (reports), in one transaction."""
    with transaction.atomic():
        _save(conversation, "status", *fields, actor=actor, kind=kind)
        conversation_status_changed.send(
            sender=Conversation,
            conversation=conversation,
            status=conversation.status,
            actor=actor if actor.pk is not None else None,
            at=timezone.now(),
        )


def conversation_assign(
    *, conversation: Conversation, assignee: AbstractBaseUser, actor: AnyUser
) -> Conversation:
    """Give the conversation to `assignee`, who must be able to see its account."""
    if (
        not assignee.is_active
        or not accounts_for_user(assignee).filter(pk=conversation.account_id).exists()
    ):
        raise WorkRefused(f"{assignee.get_username()} cannot work this account's inbox.")
    if conversation.assignee_id == assignee.pk:
        return conversation  # nothing changes: nothing to record
    conversation.assignee = assignee  # type: ignore[assignment]
    _save(
        conversation,
        "assignee",
        actor=actor,
        kind=ActivityKind.ASSIGNED,
        detail=assignee.get_username(),
    )
    logger.info(
        "conversation %s assigned to user %s by user %s", conversation.pk, assignee.pk, actor.pk
    )
    return conversation


def conversation_unassign(*, conversation: Conversation, actor: AnyUser) -> Conversation:
    if conversation.assignee_id is None:
        return conversation
    conversation.assignee = None
    _save(conversation, "assignee", actor=actor, kind=ActivityKind.UNASSIGNED)
    logger.info("conversation %s unassigned by user %s", conversation.pk, actor.pk)
    return conversation


def conversation_close(*, conversation: Conversation, actor: AnyUser) -> Conversation:
    """Closed conversations leave the open list; the customer's next message reopens them."""
    if conversation.status == Conversation.Status.CLOSED:
        return conversation
    conversation.status = Conversation.Status.CLOSED
    conversation.snoozed_until = None  # closed is done: nothing to wake
    _save_status(conversation, "snoozed_until", actor=actor, kind=ActivityKind.CLOSED)
    logger.info("conversation %s closed by user %s", conversation.pk, actor.pk)
    return conversation


def conversation_reopen(*, conversation: Conversation, actor: AnyUser) -> Conversation:
    if conversation.status == Conversation.Status.OPEN:
        return conversation
    conversation.status = Conversation.Status.OPEN
    _save_status(conversation, actor=actor, kind=ActivityKind.REOPENED)
    logger.info("conversation %s reopened by user %s", conversation.pk, actor.pk)
    return conversation


def conversation_mark_read(
    *, conversation: Conversation, user: AnyUser, now: datetime | None = None
) -> None:
    """The agent has seen everything that arrived up to `now`: one upsert, so opening a
    conversation costs the same single query the first time and every time after. Their
    list's version moves only when the conversation was unread for them: an open thread's
    every poll marks it read, and most of those change nothing the list shows."""
    user_pk = _user_pk(user)
    inbound = conversation.last_inbound_received_at
    was_unread = (
        inbound is not None
        and not ConversationReadState.objects.filter(
            conversation=conversation, user_id=user_pk, read_at__gte=inbound
        ).exists()
    )
    ConversationReadState.objects.bulk_create(
        [
            ConversationReadState(
                conversation=conversation, user_id=user_pk, read_at=now or timezone.now()
            )
        ],
        update_conflicts=True,
        unique_fields=["conversation", "user"],
        update_fields=["read_at"],
    )
    if was_unread:
        live_touch_reader(user_id=user_pk)


def conversation_mark_unread(*, conversation: Conversation, user: AnyUser) -> None:
    """Bring the conversation back as unread for this agent (if the customer ever wrote)."""
    ConversationReadState.objects.filter(conversation=conversation, user_id=_user_pk(user)).delete()
    live_touch_reader(user_id=_user_pk(user))


def conversation_customer_returned(
    *, conversation: Conversation, message: Message, created: bool
) -> None:
    """Intake's hook, after a customer's message is stored: the lines in the activity log of
    what that message did (conversations_record_messages does it in its UPDATE): it
    reopened a resolved conversation, it ended a snooze. `conversation` holds what intake
    read before the message."""
    if created or not message_moves_window(message):
        return
    events = []
    if conversation.status == Conversation.Status.CLOSED:
        events.append(ActivityKind.REOPENED)
    if conversation.snoozed_until is not None:
        events.append(ActivityKind.UNSNOOZED)
    ActivityEvent.objects.bulk_create(
        ActivityEvent(
            conversation_id=conversation.pk,
            account_id=conversation.account_id,
            actor=None,
            kind=kind,
            detail=CUSTOMER_WROTE,
        )
        for kind in events
    )
