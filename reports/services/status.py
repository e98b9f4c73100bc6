"""Recording when agents close and reopen conversations (the inbox's signal)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inbox.models import Conversation
from reports.models import StatusChange


def status_change_record(
    *, conversation: Conversation, status: str, actor: Any, at: datetime, **_: Any
) -> StatusChange:
    """One row per close or reopen; the summary reads them when it rebuilds the
    conversation's episodes (the conversation's `updated_at` moved with the change)."""
    return StatusChange.objects.create(conversation=conversation, status=status, actor=actor, at=at)
