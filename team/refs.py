"""What team work needs of the inbox's conversations and messages, as structural types.

The inbox stands above team (its pages show notes, its services record activity), so team
imports nothing of it: its models name the inbox's by app label, and its functions take
anything shaped like these (the inbox's own `Conversation` and `Message` are).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class ConversationRef(Protocol):
    @property
    def pk(self) -> Any: ...

    @property
    def account_id(self) -> int: ...

    @property
    def customer_name(self) -> str: ...

    @property
    def customer_username(self) -> str: ...

    updated_at: datetime  # moved on by every write of team work (see team.services)


class MessageRef(Protocol):
    @property
    def pk(self) -> Any: ...

    @property
    def timestamp(self) -> datetime: ...
