"""Webhook intake: Meta's events from the request to the stored message.

Modules from the top down; each imports only those below it:
- `tasks`: the Celery tasks, thin;
- request side: `record` (check JSON, store) → `ledger` (the shared insert) → `publish`
  (queue processing once committed, a few tasks for a burst);
- worker side: `drain` (the task's event, then every fresh one, a group at a time) →
  `bulk` (a group of plain customer messages at once) or `process` (one event's items, and
  the state it settles in) → `apply` (each item, idempotently) → `fields` (a message's
  columns, for `apply` and `bulk` alike);
- safety net: `sweep` (lost publishes, dead workers, backoff, late accounts, reprocess);
- `rows`, at the bottom: a ledger row's claim, reading, lease, settling and release.
"""
