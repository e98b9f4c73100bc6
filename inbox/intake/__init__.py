"""Webhook intake: Meta's events from the request to the stored message.

- request side: `record` (check JSON, store in the ledger), `ledger` (the shared insert),
  `publish` (queue processing, a few tasks for a burst);
- worker side: `process` (claim, apply, settle one event), `apply` (each item, idempotent),
  `drain` (every fresh event, a group at a time), `bulk` (a group of plain messages at once);
- safety net: `sweep` (lost publishes, dead workers, backoff, late accounts, reprocess);
- `tasks`: the Celery tasks, thin.
"""
