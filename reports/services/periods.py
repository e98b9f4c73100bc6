"""A conversation's episodes and hourly activity, from its messages and status changes: a
pure function of them, so rebuilding is always safe and the definitions live in one place.

Definitions (written on the page too, "How these are measured"):
- A customer's message opens an episode unless one is open; an agent's close ends it, and
  the customer's next message opens the next one (a reopened conversation measures its new
  first response from that message). An agent reopening without a new customer message
  continues the episode it closed.
- A response is one of our messages Meta accepted: a reply sent here (status sent or seen,
  at the moment Meta accepted it) or an echo of a reply sent from the Instagram app (at
  Meta's timestamp). Failed, queued or unconfirmed sends are not responses; internal notes
  are not messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from inbox.models import ConversationStatus, MessageDirection, MessageOrigin, MessageStatus

ACCEPTED = frozenset({MessageStatus.SENT, MessageStatus.SEEN})

# Order of events at the same instant: the customer writes, we answer, an agent closes.
_CUSTOMER, _RESPONSE, _STATUS = 0, 1, 2
_IN, _OUT, _OPENED = 0, 1, 2  # the columns of `Periods.activity`


@dataclass(frozen=True)
class MessageFacts:
    """The columns of a message that the reports read."""

    direction: str
    origin: str
    status: str
    timestamp: datetime
    sent_at: datetime | None
    author_id: int | None


@dataclass
class EpisodeFacts:
    started_at: datetime
    last_customer_message_at: datetime
    last_activity_at: datetime
    first_response_at: datetime | None = None
    responder_id: int | None = None
    responder_origin: str = ""
    last_response_at: datetime | None = None
    closed_at: datetime | None = None
    messages_in: int = 0
    messages_out: int = 0

    @property
    def first_response_seconds(self) -> int | None:
        if self.first_response_at is None:
            return None
        return int((self.first_response_at - self.started_at).total_seconds())

    @property
    def resolution_seconds(self) -> int | None:
        if self.closed_at is None or self.closed_at < self.started_at:
            return None
        return int((self.closed_at - self.started_at).total_seconds())


@dataclass
class Periods:
    episodes: list[EpisodeFacts] = field(default_factory=list)
    # (hour, author id or None) -> [messages in, messages out, episodes opened]
    activity: dict[tuple[datetime, int | None], list[int]] = field(default_factory=dict)
    # A close no row recorded, inferred from the conversation's status: record it now, so
    # the customer's next message (which reopens the conversation) does not erase it.
    unrecorded_close: datetime | None = None

    def count(self, at: datetime, author_id: int | None, *, column: int) -> None:
        hour = at.replace(minute=0, second=0, microsecond=0)
        counts = self.activity.setdefault((hour, author_id), [0, 0, 0])
        counts[column] += 1


def response_moment(message: MessageFacts) -> datetime | None:
    """When a message of ours became a response: None if Meta did not accept it."""
    if message.direction != MessageDirection.OUTBOUND or message.status not in ACCEPTED:
        return None
    if message.origin == MessageOrigin.AGENT and message.sent_at is not None:
        return message.sent_at
    return message.timestamp


def periods_compute(
    *,
    messages: Iterable[MessageFacts],
    status_changes: Iterable[tuple[str, datetime]],
    closed_unrecorded_at: datetime | None = None,
) -> Periods:
    """Walk the conversation's events in time order (Meta's clock for messages, ours for
    status changes) and cut it into episodes.

    `closed_unrecorded_at`: the conversation is closed now, at the latest by this moment
    (its last update). If no recorded close ended its last episode (it was closed before
    closes were recorded), that episode ends then."""
    events: list[tuple[datetime, int, MessageFacts | str]] = []
    for message in messages:
        if message.direction == MessageDirection.INBOUND:
            events.append((message.timestamp, _CUSTOMER, message))
        else:
            moment = response_moment(message)
            if moment is not None:
                events.append((moment, _RESPONSE, message))
    events += [(at, _STATUS, status) for status, at in status_changes]
    events.sort(key=lambda event: (event[0], event[1]))

    result = Periods()
    current: EpisodeFacts | None = None
    closed: EpisodeFacts | None = None  # the episode an agent's reopen would continue
    for at, kind, what in events:
        if kind == _CUSTOMER:
            if current is None:
                current = EpisodeFacts(
                    started_at=at, last_customer_message_at=at, last_activity_at=at
                )
                result.episodes.append(current)
                result.count(at, None, column=_OPENED)
            closed = None
            current.messages_in += 1
            current.last_customer_message_at = current.last_activity_at = at
            result.count(at, None, column=_IN)
        elif kind == _RESPONSE:
            assert isinstance(what, MessageFacts)
            author = what.author_id if what.origin == MessageOrigin.AGENT else None
            result.count(at, author, column=_OUT)
            if current is not None:
                _respond(current, at, what, author)
        elif what == ConversationStatus.CLOSED:
            if current is not None:
                current.closed_at = current.last_activity_at = at
                closed, current = current, None
        elif current is None and closed is not None:  # reopened by an agent
            closed.closed_at = None
            current, closed = closed, None
    if current is not None and closed_unrecorded_at is not None:
        current.closed_at = current.last_activity_at = max(
            closed_unrecorded_at, current.last_activity_at
        )
        result.unrecorded_close = current.closed_at
    return result


def _respond(episode: EpisodeFacts, at: datetime, message: MessageFacts, author: int | None):
    episode.messages_out += 1
    episode.last_response_at = episode.last_activity_at = at
    if episode.first_response_at is None:
        episode.first_response_at = at
        episode.responder_id = author
        episode.responder_origin = message.origin
