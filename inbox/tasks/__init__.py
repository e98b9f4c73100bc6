"""Celery tasks of the inbox, one module per concern. Each task has an explicit
`name="inbox.tasks.<function>"` so the beat schedule and queued messages do not depend on
the module layout. Import every module here so the worker registers its tasks."""

from . import intake  # noqa: F401
from .sending import message_send_task, messages_sweep_task, reaction_send_task  # noqa: F401
