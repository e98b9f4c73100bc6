"""Auto-assignment: an account that has it on gives each new or reopened conversation to
its members who are online, in turn (round-robin), skipping anyone who already has the
account's limit of open conversations. Nobody available: it stays unassigned."""

from __future__ import annotations

import logging
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import Conversation, Message
from inbox.services.presence import ONLINE_WITHIN
from team.models import ActivityEvent, ActivityKind

logger = logging.getLogger(__name__)


def auto_assign_candidates(*, account: InstagramAccount, now: datetime) -> list[int]:
    """The members online now with room for another open conversation, by id."""
    users = get_user_model()._default_manager
    return list(
        users.filter(
            instagram_accounts=account,
            is_active=True,
            presence__seen_at__gte=now - ONLINE_WITHIN,
        )
        .annotate(
            open_count=Count(
                "assigned_conversations",
                filter=Q(assigned_conversations__status=Conversation.Status.OPEN),
            )
        )
        .filter(open_count__lt=account.auto_assign_limit)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def conversation_auto_assign(
    *, conversation_id: int, account: InstagramAccount, now: datetime | None = None
) -> int | None:
    """Give an unassigned, open conversation to the next agent in the account's round; the
    agent's id, or None (auto-assignment off, nobody available, or assigned already)."""
    if not account.auto_assign:
        return None
    now = now or timezone.now()
    with transaction.atomic():
        # The account's row serialises the round between workers.
        locked = InstagramAccount.objects.select_for_update().get(pk=account.pk)
        candidates = auto_assign_candidates(account=locked, now=now)
        if not candidates:
            return None
        last = locked.auto_assign_last_id or 0
        chosen = next((pk for pk in candidates if pk > last), candidates[0])
        taken = Conversation.objects.filter(
            pk=conversation_id, assignee__isnull=True, status=Conversation.Status.OPEN
        ).update(assignee_id=chosen, updated_at=now)
        if not taken:
            return None
        InstagramAccount.objects.filter(pk=locked.pk).update(auto_assign_last_id=chosen)
        ActivityEvent.objects.create(
            conversation_id=conversation_id,
            account_id=account.pk,
            actor=None,  # the system: the account's round
            kind=ActivityKind.ASSIGNED,
            detail=get_user_model().objects.get(pk=chosen).get_username(),
        )
    logger.info("conversation %s auto-assigned to user %s", conversation_id, chosen)
    return chosen


def conversation_auto_assign_if_new(
    *, account: InstagramAccount, conversation: Conversation, message: Message, created: bool
) -> int | None:
    """Intake's hook, after a customer's message is stored: auto-assign the conversation if
    it is new, or was closed until this message reopened it. `conversation` holds the
    status read before the message (intake reads it with the conversation)."""
    if not account.auto_assign or message.direction != Message.Direction.INBOUND:
        return None
    if not created and conversation.status != Conversation.Status.CLOSED:
        return None
    return conversation_auto_assign(conversation_id=conversation.pk, account=account)
