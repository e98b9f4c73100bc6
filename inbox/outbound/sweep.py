"""The outbound sweep (every 30 s from beat): the safety net under message_send_task.

- A reply stuck in "sending" for minutes means a worker died mid-call: Meta may or may not
  have it. It becomes "Unknown: check Instagram" and is never resent automatically.
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

from .errors import UNKNOWN_STUCK

logger = logging.getLogger(__name__)

# Far beyond the longest a call can take (the client's timeouts, a rate-limit slot).
STUCK_AFTER = timedelta(minutes=5)
REQUEUE_AFTER = timedelta(minutes=1)
BATCH = 500


def messages_sweep(*, now: datetime | None = None) -> list[int]:
    """Settle stuck sends; return the ids of queued replies to hand to the task again."""
    now = now or timezone.now()
    stuck = Message.objects.filter(
        status=Message.Status.SENDING, sending_started_at__lt=now - STUCK_AFTER
    )
    for pk in stuck.values_list("pk", flat=True)[:BATCH]:
        if stuck.filter(pk=pk).update(
            status=Message.Status.UNKNOWN,
            error_code="unknown",
            error_reason=UNKNOWN_STUCK,
            updated_at=now,
        ):
            logger.warning("message %s stuck in sending; marked unknown", pk)

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
    return due
