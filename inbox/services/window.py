"""Meta's reply window, measured from the customer's last message by Meta's clock.

Within 24 hours: a plain reply. From 24 hours to 7 days: only with the HUMAN_AGENT tag, and
only when the account's human-agent switch is on. After that nothing can be sent until the
customer writes again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from inbox.models import Conversation, Message

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
REOPENS = "It reopens when the customer writes again."


class WindowState(enum.StrEnum):
    OPEN = "open"
    HUMAN_AGENT = "human_agent"
    CLOSED = "closed"


@dataclass(frozen=True)
class ReplyWindow:
    state: WindowState
    closes_at: datetime | None  # when the current state ends (None when closed)
    tag: str  # the tag a reply sent now must carry ("" or "HUMAN_AGENT")
    reason: str  # why nothing can be sent (empty unless closed)

    @property
    def can_reply(self) -> bool:
        return self.state != WindowState.CLOSED

    def time_left(self, now: datetime | None = None) -> timedelta | None:
        if self.closes_at is None:
            return None
        return max(self.closes_at - (now or timezone.now()), timedelta(0))


def reply_window(
    *,
    last_customer_message_at: datetime | None,
    human_agent_enabled: bool,
    now: datetime | None = None,
) -> ReplyWindow:
    now = now or timezone.now()
    if last_customer_message_at is None:
        return ReplyWindow(
            WindowState.CLOSED, None, "", "The customer has not written to this account yet."
        )
    age = now - last_customer_message_at
    if age < STANDARD_WINDOW:
        return ReplyWindow(WindowState.OPEN, last_customer_message_at + STANDARD_WINDOW, "", "")
    if age < HUMAN_AGENT_WINDOW:
        if human_agent_enabled:
            return ReplyWindow(
                WindowState.HUMAN_AGENT,
                last_customer_message_at + HUMAN_AGENT_WINDOW,
                Message.Tag.HUMAN_AGENT,
                "",
            )
        return ReplyWindow(
            WindowState.CLOSED,
            None,
            "",
            "More than 24 hours have passed since the customer's last message and the "
            f"human agent tag is off for this account. {REOPENS}",
        )
    return ReplyWindow(
        WindowState.CLOSED,
        None,
        "",
        f"More than 7 days have passed since the customer's last message. {REOPENS}",
    )


def conversation_reply_window(
    *, conversation: Conversation, now: datetime | None = None
) -> ReplyWindow:
    return reply_window(
        last_customer_message_at=conversation.last_customer_message_at,
        human_agent_enabled=conversation.account.human_agent_enabled,
        now=now,
    )
