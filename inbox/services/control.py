"""Which app controls a conversation's thread: this inbox, or another one (Instagram's own
inbox, a bot), as Meta's `standby` deliveries tell it.

Meta sends a thread's events on `standby` instead of `messaging` while another app controls
it (Handover Protocol, Conversation Routing: docs/meta.md), and may refuse our replies then.
The conversation remembers since when, so the thread can say so and a refused reply can be
explained. A customer's event on `messaging`, or a reply Meta accepted, hands it back.
Forward only, by Meta's clock: an older event arriving late changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from inbox.models import Conversation
from inbox.services.live import live_touch


def conversation_control_note(*, conversation: Conversation, at: datetime, standby: bool) -> None:
    """An event at `at` (Meta's clock) reached us on standby (another app controls the
    thread) or on messaging (we do). Costs nothing in the common case: a messaging event
    for a thread nobody else controls."""
    if not standby and conversation.other_app_since is None:
        return
    not_older = Q(control_seen_at__isnull=True) | Q(control_seen_at__lte=at)
    rows = Conversation.objects.filter(not_older, pk=conversation.pk)
    live_touch(account_id=conversation.account_id, conversation_id=conversation.pk)
    if standby:
        rows.update(
            other_app_since=Coalesce(F("other_app_since"), Value(at)),
            control_seen_at=at,
            updated_at=timezone.now(),
        )
    else:
        rows.filter(other_app_since__isnull=False).update(
            other_app_since=None, control_seen_at=at, updated_at=timezone.now()
        )
