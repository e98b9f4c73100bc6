"""What the pages say about our replies' delivery: why a reply waits and until when, a
failed last reply on its list row, and Meta's refusal that contradicts our window clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from .models import Message
from .outbound.errors import WAITING_FOR_SLOT

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
