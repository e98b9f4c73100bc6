"""History sync's tasks (registered by `inbox/tasks.py`)."""

from __future__ import annotations

from celery import Task, shared_task

from .sync import history_reconcile_queue, history_sync

SYNC_RETRIES = 5


@shared_task(bind=True, name="inbox.tasks.history_sync_task", ignore_result=True)
def history_sync_task(self: Task, account_id: int, reconcile: bool = False) -> None:
    result = history_sync(account_id=account_id, reconcile=reconcile)
    # Stopped by Meta's limits or an outage: resume from the cursor later.
    if result.retry_in is not None and self.request.retries < SYNC_RETRIES:
        raise self.retry(countdown=result.retry_in, max_retries=SYNC_RETRIES)


@shared_task(name="inbox.tasks.history_reconcile_task", ignore_result=True)
def history_reconcile_task() -> None:
    history_reconcile_queue()
