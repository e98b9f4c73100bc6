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

from accounts.services import account_graph_client, account_mark_needs_reconnect
from common.queueing import task_queue
from inbox.models import Conversation
from instagram.errors import AuthError, GraphError

logger = logging.getLogger(__name__)

PROFILE_MAX_AGE = timedelta(days=1)
# At most one fetch per conversation in this many seconds, whatever the outcome: a burst of
# messages from a new customer queues one fetch, and a profile Meta refuses (consent, unknown
# user) is not asked for again on every message.
FETCH_THROTTLE_SECONDS = 3600
MAX_FOLLOWERS = 2_147_483_647  # PositiveIntegerField


def conversation_profile_queue_if_stale(*, conversation: Conversation, created: bool) -> None:
    """Queue a profile fetch (after commit) when the conversation is new or its profile old."""
    fetched = conversation.profile_fetched_at
    if not created and fetched is not None and fetched > timezone.now() - PROFILE_MAX_AGE:
        return
    # The creation time keeps the key unique to this row even if an id is ever reused.
    key = f"inbox:profile-fetch:{conversation.pk}:{conversation.created_at.timestamp():.6f}"
    try:
        if not cache.add(key, 1, timeout=FETCH_THROTTLE_SECONDS):
            return
    except Exception as e:  # the cache is an optimisation: without it, fetch anyway
        logger.warning("profile throttle unavailable (%s): fetching anyway", type(e).__name__)
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
        profile = account_graph_client(account).get_user_profile(igsid=conversation.customer_igsid)
    except AuthError as e:
        account_mark_needs_reconnect(
            account_id=account.pk, reason=f"Profile fetch refused: {e.message}"[:500]
        )
        _record_error(conversation_id, f"{e.code_label}: {e.message}")
        return False
    except GraphError as e:
        _record_error(conversation_id, f"{e.code_label}: {e.message}")
        return e.retryable
    Conversation.objects.filter(pk=conversation_id).update(
        **_profile_fields(profile), profile_fetched_at=timezone.now(), profile_error=""
    )
    return False


def _record_error(conversation_id: int, error: str) -> None:
    logger.info("profile fetch for conversation %s failed: %s", conversation_id, error[:200])
    Conversation.objects.filter(pk=conversation_id).update(profile_error=error[:255])


def _text(value: Any, length: int) -> str:
    return value.replace("\x00", "")[:length] if isinstance(value, str) else ""


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return min(number, MAX_FOLLOWERS) if number >= 0 else None


def _profile_fields(profile: dict[str, Any]) -> dict[str, Any]:
    return {
        "customer_name": _text(profile.get("name"), 255),
        "customer_username": _text(profile.get("username"), 255),
        "customer_picture_url": _text(profile.get("profile_pic"), 2000),
        "customer_follower_count": _count(profile.get("follower_count")),
        "customer_follows_business": _flag(profile.get("is_user_follow_business")),
        "business_follows_customer": _flag(profile.get("is_business_follow_user")),
        "customer_is_verified": _flag(profile.get("is_verified_user")),
    }
