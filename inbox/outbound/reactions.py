"""Delivering the business's reaction (a heart) on a customer's message.

Meta sends no echo for the business's own reactions, so the local Reaction row is the
record. The task makes Instagram match it: react when the row exists, unreact when it does
not, so a react quickly followed by an unreact ends in the state the agent left. When Meta
refuses for good, the local heart is taken back so the thread does not claim what Instagram
does not show.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from accounts.meta import account_call
from inbox.models import Message, Reaction
from inbox.services.window import WindowState, conversation_reply_window
from instagram.errors import GraphError

from .pacing import Bucket, SendOutcome, bucket_for, bucket_pause, retry_delay, slot_take

logger = logging.getLogger(__name__)

REACTION = "love"  # the only reaction Instagram's API sends
EMOJI = "❤️"


def reaction_body(*, message: Message, react: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {"message_id": message.mid}
    if react:
        payload["reaction"] = REACTION
    return {
        "recipient": {"id": message.conversation.customer_igsid},
        "sender_action": "react" if react else "unreact",
        "payload": payload,
    }


def _take_back(message: Message, why: str) -> None:
    deleted, _ = Reaction.objects.filter(message=message, actor=Reaction.Actor.BUSINESS).delete()
    if deleted:
        logger.info("reaction on message %s taken back: %s", message.pk, why)


def reaction_deliver(
    *, message_id: int, attempt: int = 1, slot_at: float | None = None
) -> SendOutcome:
    """One attempt at making Instagram show the heart as the agent left it (or took it)."""
    message = Message.objects.select_related("conversation__account").filter(pk=message_id).first()
    if message is None or not message.mid:
        logger.info("message %s is gone or has no mid; no reaction to send", message_id)
        return SendOutcome()
    account = message.conversation.account
    react = Reaction.objects.filter(message=message, actor=Reaction.Actor.BUSINESS).exists()
    if not account.can_send:
        _take_back(message, f"account {account.pk} is {account.status}")
        return SendOutcome()
    if conversation_reply_window(conversation=message.conversation).state != WindowState.OPEN:
        _take_back(message, "the 24-hour window closed")
        return SendOutcome()
    bucket = bucket_for(account_id=account.pk)
    later = slot_take(bucket=bucket, slot_at=slot_at)
    if later is not None:
        return later
    action = "react" if react else "unreact"
    logger.info("sending reaction %s on message %s (account %s)", action, message.pk, account.pk)
    try:
        with account_call(account, doing="sending a reaction") as client:
            client.send_message(
                ig_id=account.ig_id, body=reaction_body(message=message, react=react)
            )
    except GraphError as error:
        return _failed(message, error, attempt=attempt, react=react, bucket=bucket)
    logger.info("sent reaction %s on message %s", action, message.pk)
    return SendOutcome()


def _failed(
    message: Message, error: GraphError, *, attempt: int, react: bool, bucket: Bucket
) -> SendOutcome:
    label = error.code_label
    logger.info("reaction on message %s failed: %s %s", message.pk, type(error).__name__, label)
    # A refused token (not retryable) has marked the account for reconnection
    # (`account_call`): the heart goes back, like any refusal.
    if error.retryable and attempt < settings.INSTAGRAM_SEND_MAX_ATTEMPTS:
        delay = retry_delay(attempt=attempt, error=error)
        if error.backoff_hint:
            bucket_pause(bucket=bucket, seconds=delay)
        return SendOutcome(retry_in=delay, attempt=attempt + 1)
    if react:
        _take_back(message, f"Instagram refused it ({label})")
    return SendOutcome()
