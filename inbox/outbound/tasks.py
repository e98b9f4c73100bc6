"""Outbound tasks: thin wrappers that call the send services and queue what they ask for.

`message_send_task` may run twice for one message (a redelivery, the sweep): the service's
claim makes the second run a no-op. What runs next, and when, is `inbox.outbound.schedule`.
"""

from __future__ import annotations

from celery import shared_task

from .delivery import message_deliver
from .reactions import reaction_deliver
from .release import held_replies_release
from .schedule import message_outcome_queue, message_send_queue, reaction_outcome_queue
from .sweep import messages_sweep


@shared_task(name="inbox.tasks.message_send_task", ignore_result=True)
def message_send_task(message_id: int, slot_at: float | None = None) -> None:
    outcome = message_deliver(message_id=message_id, slot_at=slot_at)
    message_outcome_queue(message_id=message_id, outcome=outcome)


@shared_task(name="inbox.tasks.reaction_send_task", ignore_result=True)
def reaction_send_task(message_id: int, attempt: int = 1, slot_at: float | None = None) -> None:
    outcome = reaction_deliver(message_id=message_id, attempt=attempt, slot_at=slot_at)
    reaction_outcome_queue(message_id=message_id, attempt=attempt, outcome=outcome)


@shared_task(name="inbox.tasks.messages_sweep_task", ignore_result=True)
def messages_sweep_task() -> None:
    for message_id in messages_sweep():
        message_send_queue(message_id=message_id)


@shared_task(name="inbox.tasks.account_replies_release_task", ignore_result=True)
def account_replies_release_task(account_id: int) -> None:
    for message_id in held_replies_release(account_id=account_id):
        message_send_queue(message_id=message_id)
