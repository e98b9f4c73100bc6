"""Building conversations the way the inbox does, at fixed times (time-machine)."""

from __future__ import annotations

from datetime import datetime

import time_machine

from inbox.models import Conversation, Message
from inbox.outbound.echoes import message_record_sent
from inbox.services import work
from inbox.services.conversations import conversation_record_message
from tests.factories import MessageFactory, OutboundMessageFactory


def customer_writes(conversation: Conversation, at: datetime, **fields) -> Message:
    """A customer's message, Meta-timestamped `at`, stored (and summarised) at `at`."""
    with time_machine.travel(at, tick=False):
        message = MessageFactory(conversation=conversation, timestamp=at, **fields)
        conversation_record_message(message=message)
    return message


def agent_replies(conversation: Conversation, author, written: datetime, accepted=None) -> Message:
    """An agent's reply written at `written`; Meta accepts it at `accepted` (None: it is
    still in flight)."""
    with time_machine.travel(written, tick=False):
        message = OutboundMessageFactory(
            conversation=conversation, author=author, timestamp=written
        )
        conversation_record_message(message=message)
    if accepted is not None:
        with time_machine.travel(accepted, tick=False):
            Message.objects.filter(pk=message.pk).update(status=Message.Status.SENDING)
            message_record_sent(message=message, mid=f"sent-{message.pk}")
    return message


def reply_fails(conversation: Conversation, author, at: datetime) -> Message:
    with time_machine.travel(at, tick=False):
        message = OutboundMessageFactory(
            conversation=conversation,
            author=author,
            timestamp=at,
            status=Message.Status.FAILED,
            error_code="10",
            error_reason="Outside the window",
        )
        conversation_record_message(message=message)
    return message


def app_echo(conversation: Conversation, at: datetime) -> Message:
    """A reply sent from the Instagram app: its echo, as intake stores it."""
    with time_machine.travel(at, tick=False):
        message = OutboundMessageFactory(
            conversation=conversation,
            origin=Message.Origin.BUSINESS_APP,
            status=Message.Status.SENT,
            mid=f"echo-{at.timestamp()}",
            timestamp=at,
            sent_at=at,
        )
        conversation_record_message(message=message)
    return message


def close(conversation: Conversation, actor, at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        conversation.refresh_from_db()
        work.conversation_close(conversation=conversation, actor=actor)


def reopen(conversation: Conversation, actor, at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        conversation.refresh_from_db()
        work.conversation_reopen(conversation=conversation, actor=actor)
