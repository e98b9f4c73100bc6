"""Outbound tasks: thin wrappers that call the delivery services and schedule what they ask.

`message_send_task` may run twice for one message (a redelivery, the sweep): the service's
claim makes the second run a no-op. Retries are new tasks with a countdown, not Celery's
autoretry, so a back-off honours Meta's Retry-After and the rate-limit slot exactly.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from .delivery import message_deliver
from .pacing import Outcome
from .reactions import reaction_deliver
from .sweep import messages_sweep

logger = logging.getLogger(__name__)


def _eager() -> bool:
    # Eagerly run tasks (the test suite) cannot wait: a countdown would recurse at once.
    # The row stays queued with its next_attempt_at; the sweep (or the test) runs it.
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


@shared_task(name="inbox.tasks.message_send_task", ignore_result=True)
def message_send_task(message_id: int, slot_at: float | None = None) -> None:
    outcome = message_deliver(message_id=message_id, slot_at=slot_at)
    _schedule_message(message_id, outcome)


def _schedule_message(message_id: int, outcome: Outcome) -> None:
    if outcome.retry_in is not None and not _eager():
        message_send_task.apply_async(
            args=(message_id,),
            kwargs={"slot_at": outcome.slot_at},
            countdown=max(outcome.retry_in, 0.0),
        )
    if outcome.follow_up is not None:
        message_send_task.delay(outcome.follow_up)


@shared_task(name="inbox.tasks.reaction_send_task", ignore_result=True)
def reaction_send_task(message_id: int, attempt: int = 1, slot_at: float | None = None) -> None:
    outcome = reaction_deliver(message_id=message_id, attempt=attempt, slot_at=slot_at)
    if outcome.retry_in is not None and not _eager():
        reaction_send_task.apply_async(
            args=(message_id,),
            kwargs={"attempt": outcome.attempt or attempt, "slot_at": outcome.slot_at},
            countdown=max(outcome.retry_in, 0.0),
        )


@shared_task(name="inbox.tasks.messages_sweep_task", ignore_result=True)
def messages_sweep_task() -> None:
    for message_id in messages_sweep():
        message_send_task.delay(message_id)
