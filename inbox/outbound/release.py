"""Replies held for an account that needed reconnecting go out once it is reconnected.

While Meta refuses an account's token, its replies stay QUEUED and say why
(`errors.WAITING_FOR_RECONNECT`). Reconnecting (Instagram Login, the environment, the
sandbox) queues `account_replies_release_task` on commit, which hands each conversation's
first held reply to the send task at once; the rest follow in order, as every send hands
over to its conversation's next reply. The sweep stays the safety net should that task be
lost.
"""

from __future__ import annotations

import logging

from django.db.models import Min, Q
from django.utils import timezone

from inbox.models import Message

logger = logging.getLogger(__name__)


def held_replies_release(*, account_id: int) -> list[int]:
    """The first queued reply of each of the account's conversations that is due now, if the
    account can send again; touched, so the sweep leaves them to this hand-over."""
    now = timezone.now()
    firsts = (
        Message.objects.filter(
            account_id=account_id,
            status=Message.Status.QUEUED,
            direction=Message.Direction.OUTBOUND,
            origin=Message.Origin.AGENT,
            account__status="active",
        )
        .exclude(account__token_ciphertext="")
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by()
        .values("conversation_id")
        .annotate(first=Min("pk"))
        .values_list("first", flat=True)
    )
    ids = sorted(firsts)
    if ids:
        Message.objects.filter(pk__in=ids, status=Message.Status.QUEUED).update(updated_at=now)
        logger.info("account %s reconnected: releasing %d held replies", account_id, len(ids))
    return ids
