"""What the pages say about our replies' delivery: why a reply waits and until when, a
failed last reply on its list row, and Meta's refusal that contradicts our window clock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.utils import timezone

from .models import Conversation, Message
from .outbound.errors import WAITING_FOR_SLOT, WINDOW_REFUSAL_CODES

# A next attempt this close is "now": no time worth showing.
DUE_NOW = timedelta(seconds=1)


def next_try_label(moment: datetime) -> str:
    return f"Next try at {timezone.localtime(moment):%H:%M:%S}."


def reply_wait_present(message: Message, now: datetime | None = None) -> str:
    """Why a queued reply has not left yet, and when it is tried next; "" when it is simply
    on its way. Meta's own reason (a slow-down, an outage, a refused token) comes first."""
    if message.status != Message.Status.QUEUED or message.origin != Message.Origin.AGENT:
        return ""
    now = now or timezone.now()
    later = message.next_attempt_at if message.next_attempt_at else None
    due_later = later is not None and later > now + DUE_NOW
    reason = message.error_reason.strip()
    if reason and reason.endswith("; retrying automatically."):
        reason = reason.removesuffix("; retrying automatically.") + "."
    if not reason and due_later:
        reason = WAITING_FOR_SLOT
    if not reason:
        return ""
    if due_later and later is not None:
        return f"{reason} {next_try_label(later)}"
    return reason


# The newest reply's fate on its conversation's list row: all is well says nothing.
REPLY_PROBLEMS: dict[str, str] = {
    Message.Status.FAILED.value: "Not delivered",
    Message.Status.UNKNOWN.value: "Delivery unknown",
}


def reply_problem_label(status: str | None) -> str:
    return REPLY_PROBLEMS.get(status or "", "")


# The header's words when Meta refused a reply for its window while ours says it is open.
META_WINDOW_LABEL = "Instagram says: reply window ended"


def window_contradiction_present(
    *, conversation: Conversation, messages: Iterable[Message], window_open: bool
) -> str:
    """When Meta refused one of the shown replies as outside its reply window, written after
    the customer's last message, while our clock (from Meta's timestamp of that message)
    says the window is open: say so in words, rather than "23 h left" beside the refusal.
    "" when nothing contradicts."""
    if not window_open or conversation.last_customer_message_at is None:
        return ""
    since = conversation.last_customer_message_at
    refused_at = accepted_at = None
    for message in messages:
        if message.origin != Message.Origin.AGENT or message.timestamp <= since:
            continue
        if message.status == Message.Status.FAILED and message.error_code in WINDOW_REFUSAL_CODES:
            refused_at = max(filter(None, (refused_at, message.updated_at)))
        elif message.sent_at is not None:
            accepted_at = max(filter(None, (accepted_at, message.sent_at)))
    # A reply Meta took after the refusal settles it: the window was open after all.
    if refused_at is not None and (accepted_at is None or refused_at > accepted_at):
        wrote = timezone.localtime(since)
        return (
            "Instagram refused a reply as outside its reply window, although by the time "
            f"of the customer's last message ({wrote:%d %b, %H:%M}) the window should "
            "still be open. Instagram's answer counts: replies may be refused until the "
            "customer writes again."
        )
    return ""
