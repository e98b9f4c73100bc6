"""Customer profiles from Meta's User Profile API, fetched outside the intake path.

A profile is fetched on first contact and again when it is older than a day (picture links
expire). A failure is recorded on the conversation and never blocks or drops a message.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.meta import account_call
from common.cache import cache_or
from common.queueing import task_queue
from inbox.models import Conversation
from inbox.services.live import live_touch_conversations
from instagram.answers import Profile
from instagram.errors import GraphError

logger = logging.getLogger(__name__)

PROFILE_MAX_AGE = timedelta(days=1)
# At most one fetch per conversation in this many seconds, whatever the outcome: a burst of
# messages from a new customer queues one fetch, and a profile Meta refuses (consent, unknown
# user) is not asked for again on every message.
FETCH_THROTTLE_SECONDS = 3600


def conversation_profile_queue_if_stale(*, conversation: Conversation, created: bool) -> None:
    """Queue a profile fetch (after commit) when the conversation is new or its profile old."""
    fetched = conversation.profile_fetched_at
    if not created and fetched is not None and fetched > timezone.now() - PROFILE_MAX_AGE:
        return
    # The creation time keeps the key unique to this row even if an id is ever reused.
    key = f"inbox:profile-fetch:{conversation.pk}:{conversation.created_at.timestamp():.6f}"
    # The cache down: without the throttle, fetch anyway.
    first = partial(cache.add, key, 1, timeout=FETCH_THROTTLE_SECONDS)
    if not cache_or(logger, "profile fetch throttle skipped", first, True):
        return
    transaction.on_commit(partial(_publish, conversation.pk))


def _publish(conversation_id: int) -> None:
    task_queue("inbox.tasks.conversation_profile_fetch_task", conversation_id)


def conversation_profile_fetch(*, conversation_id: int) -> bool:
    """Fetch and store the customer's profile. Returns True when a retry may help (a
    transient failure); every failure is recorded in `profile_error`."""
    conversation = Conversation.objects.select_related("account").filter(pk=conversation_id).first()
    if conversation is None:
        logger.info("profile fetch: conversation %s is gone", conversation_id)
        return False
    account = conversation.account
    if not account.can_send:
        _record_error(conversation_id, f"account {account} cannot call Meta ({account.status})")
        return False
    try:
        with account_call(account, doing="fetching a customer's profile") as client:
            profile = client.get_user_profile(igsid=conversation.customer_igsid)
    except GraphError as e:
        _record_error(conversation_id, f"{e.code_label}: {e.message}")
        return e.retryable  # a refused token (AuthError) is not
    Conversation.objects.filter(pk=conversation_id).update(
        **_profile_fields(profile), profile_fetched_at=timezone.now(), profile_error=""
    )
    live_touch_conversations(conversation_ids=[conversation_id])
    return False


def _record_error(conversation_id: int, error: str) -> None:
    logger.info("profile fetch for conversation %s failed: %s", conversation_id, error[:200])
    Conversation.objects.filter(pk=conversation_id).update(profile_error=error[:255])
    live_touch_conversations(conversation_ids=[conversation_id])


def _profile_fields(profile: Profile) -> dict[str, Any]:
    return {
        "customer_name": profile.name,
        "customer_username": profile.username,
        "customer_picture_url": profile.picture_url,
        "customer_follower_count": profile.follower_count,
        "customer_follows_business": profile.follows_business,
        "business_follows_customer": profile.business_follows,
        "customer_is_verified": profile.is_verified,
    }
