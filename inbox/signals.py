"""Signals the inbox sends for apps built on it (reports), which the inbox never imports."""

from django.dispatch import Signal

# An agent closed or reopened a conversation: sent with `conversation`, `status` (the new
# one), `actor` and `at`, inside the change's transaction.
conversation_status_changed = Signal()
