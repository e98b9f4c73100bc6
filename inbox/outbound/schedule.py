"""Handing sends to the workers: now, at a booked slot, or after a back-off.

Tasks are queued by name (`common.queueing.task_queue`), so a broker outage never fails an
agent's request or a worker: the row is already stored, and the sweep queues it again. A
send attempt answers with a `SendOutcome`; `message_outcome_queue` and
`reaction_outcome_queue` queue what it asks for (its own next run, the conversation's next
reply). Retries are new tasks with a countdown, not Celery's autoretry, so a back-off
honours Meta's Retry-After and the rate-limit slot exactly.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from common.queueing import task_queue

from .pacing import SendOutcome, slot_countdown

SEND_TASK = "inbox.tasks.message_send_task"
REACTION_TASK = "inbox.tasks.reaction_send_task"


def _eager() -> bool:
    # Eagerly run tasks (the test suite) cannot wait: a countdown would recurse at once.
    # The row stays queued with its next_attempt_at; the sweep (or the test) runs it.
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


def message_send_queue(*, message_id: int, slot_at: float | None = None) -> None:
    """Hand a queued reply to the workers, for its booked slot when it has one."""
    countdown = slot_countdown(slot_at)
    if countdown is None:
        task_queue(SEND_TASK, message_id)
    else:
        task_queue(SEND_TASK, message_id, kwargs={"slot_at": slot_at}, countdown=countdown)


def message_outcome_queue(*, message_id: int, outcome: SendOutcome) -> None:
    """After one attempt at a reply: its next run if it asked for one, then the next reply
    of its conversation, free to go now."""
    _run_again(SEND_TASK, message_id, outcome)
    if outcome.follow_up is not None:
        task_queue(SEND_TASK, outcome.follow_up)


def reaction_send_queue(*, message_id: int) -> None:
    """Hand the business's reaction on this message to the workers."""
    task_queue(REACTION_TASK, message_id)


def reaction_outcome_queue(*, message_id: int, attempt: int, outcome: SendOutcome) -> None:
    """After one attempt at a reaction: its next run, if it asked for one."""
    _run_again(REACTION_TASK, message_id, outcome, attempt=outcome.attempt or attempt)


def _run_again(task: str, message_id: int, outcome: SendOutcome, **kwargs: Any) -> None:
    if outcome.retry_in is not None and not _eager():
        task_queue(
            task,
            message_id,
            kwargs={**kwargs, "slot_at": outcome.slot_at},
            countdown=max(outcome.retry_in, 0.0),
        )
