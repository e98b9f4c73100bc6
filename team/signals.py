"""What team work tells the rest of the product without importing it (team sits below the
inbox, which listens)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `user_ids` (inside the transaction that wrote it) whenever those agents' unread
# mentions change: a note mentioned them, or they read mentions. The inbox's live polls
# show the new count (inbox/services/live.py).
mentions_changed = Signal()
