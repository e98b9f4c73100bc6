"""The inbox's Celery tasks. Each has an explicit `name="inbox.tasks.<function>"`, the name
services queue it by (`common.queueing`) and the beat schedule uses, whatever module it
lives in. Intake's and outbound's tasks live in their packages; importing them here is what
registers them, in the worker (Celery's autodiscovery) and in the web (`InboxConfig.ready`).
"""

from __future__ import annotations

from celery import Task, shared_task

from inbox.history import tasks as history_tasks
from inbox.intake import tasks as intake_tasks
from inbox.outbound import tasks as outbound_tasks
from inbox.services.edits import message_edit_fetch
from inbox.services.profiles import conversation_profile_fetch
from inbox.services.snooze import conversations_wake_due

__all__ = [
    "conversation_profile_fetch_task",
    "conversations_wake_task",
    "history_tasks",
    "intake_tasks",
    "message_edit_fetch_task",
    "outbound_tasks",
]

PROFILE_RETRIES = 3
EDIT_FETCH_RETRIES = 4


@shared_task(bind=True, name="inbox.tasks.conversation_profile_fetch_task")
def conversation_profile_fetch_task(self: Task, conversation_id: int) -> None:
    retry = conversation_profile_fetch(conversation_id=conversation_id)
    if retry and self.request.retries < PROFILE_RETRIES:
        raise self.retry(countdown=30 * 2**self.request.retries)


@shared_task(
    bind=True,
    name="inbox.tasks.message_edit_fetch_task",
    ignore_result=True,
    max_retries=EDIT_FETCH_RETRIES,
)
def message_edit_fetch_task(self: Task, message_id: int, num_edit: int) -> None:
    retry = message_edit_fetch(message_id=message_id, num_edit=num_edit)
    if retry and self.request.retries < EDIT_FETCH_RETRIES:
        raise self.retry(countdown=30 * 2**self.request.retries)


@shared_task(name="inbox.tasks.conversations_wake_task", ignore_result=True)
def conversations_wake_task() -> None:
    """Beat: snoozed conversations whose time has come go back to the Open list, unread."""
    conversations_wake_due()
