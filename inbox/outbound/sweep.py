"""The outbound sweep (every 30 s from beat): the safety net under message_send_task.

- A reply still "sending" past its lease (`pacing.send_lease`, about a minute) means a worker
  died mid-call: Meta may or may not have it. It becomes "Unknown: check Instagram", says
  so, and is never resent automatically (an agent may send it again, once confirmed). The
  conversation's next reply is handed over at once, as a finished send would.
- A reply still queued a minute after it was last touched lost its task (broker outage,
  worker restart) or waited for its account to be reconnected: it is queued again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import Message
from inbox.services.live import live_touch_conversations

from .delivery import next_queued_reply
from .errors import UNKNOWN_STUCK
from .pacing import send_lease

logger = logging.getLogger(__name__)

REQUEUE_AFTER = timedelta(minutes=1)
BATCH = 500


def messages_sweep(*, now: datetime | None = None) -> list[int]:
    """Settle stuck sends; return the ids of queued replies to hand to the task again."""
    now = now or timezone.now()
    handed_over = _stuck_settle(now)
    due = list(
        Message.objects.filter(
            status=Message.Status.QUEUED,
            direction=Message.Direction.OUTBOUND,
            updated_at__lt=now - REQUEUE_AFTER,
            account__status=InstagramAccount.Status.ACTIVE,
        )
        .exclude(account__token_ciphertext="")
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("pk")
        .values_list("pk", flat=True)[:BATCH]
    )
    if due:
        # Touch them so the next sweep leaves them alone for another minute.
        Message.objects.filter(pk__in=due, status=Message.Status.QUEUED).update(updated_at=now)
        logger.info("re-queueing %d waiting replies", len(due))
    return list(dict.fromkeys([*handed_over, *due]))


def _stuck_settle(now: datetime) -> list[int]:
    """Mark sends past their lease unknown; return the next reply of each one's thread."""
    stuck = Message.objects.filter(
        status=Message.Status.SENDING, sending_started_at__lt=now - send_lease()
    )
    next_ids: list[int] = []
    for message in stuck.only("pk", "conversation_id").order_by("pk")[:BATCH]:
        if stuck.filter(pk=message.pk).update(
            status=Message.Status.UNKNOWN,
            error_code="unknown",
            error_reason=UNKNOWN_STUCK,
            next_attempt_at=None,
            updated_at=now,
        ):
            logger.warning("message %s stuck in sending; marked unknown", message.pk)
            live_touch_conversations(conversation_ids=[message.conversation_id])
            next_id = next_queued_reply(message)
            if next_id is not None:
                next_ids.append(next_id)
    return next_ids
