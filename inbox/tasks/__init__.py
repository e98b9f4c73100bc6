"""Celery tasks of the inbox, one module per concern. Each task has an explicit
`name="inbox.tasks.<function>"` so the beat schedule and queued messages do not depend on
the module layout. Import every module here so the worker registers its tasks."""

from . import intake  # noqa: F401
