"""What the reports read: when conversations were closed and reopened (the inbox keeps only
the current status), and a summary of every conversation's messages, rebuilt from them
(`services/summary.py`) so that the page and the CSV are aggregates over a few indexed
columns rather than over every message.

- `StatusChange`: an agent closed or reopened a conversation (our clock).
- `Episode`: one stretch of a conversation that a customer's message opened (the first one,
  or the first after a close) until an agent closed it: when it started (Meta's clock), our
  first reply Meta accepted, when it was closed.
- `Activity`: messages per conversation, hour (UTC) and author, for volumes and busy hours.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import Conversation, ConversationStatus, MessageOrigin


class StatusChange(models.Model):
    """An agent closed or reopened a conversation. A customer's message reopens a closed
    conversation too; that needs no row: the message itself marks the moment."""

    Status = ConversationStatus

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ConversationStatus.values),
                name="reports_statuschange_status_valid",
            )
        ]
        indexes = [
            # Rebuilding a conversation's episodes: its closings, in order.
            models.Index(fields=["conversation", "at"], name="report_status_conv_idx"),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.conversation_id} {self.status} at {self.at:%Y-%m-%d %H:%M}"


class Episode(models.Model):
    """A customer's request and how we answered it. Times are Meta's clock for messages and
    ours for closing; seconds are stored so that SQL aggregates need no date arithmetic."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="report_episodes"
    )
    account = models.ForeignKey(InstagramAccount, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()  # the customer's message that opened it
    last_customer_message_at = models.DateTimeField()  # the reply window runs from here
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Who answered first: an agent here, or someone in the Instagram app (an echo).
    responder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    responder_origin = models.CharField(
        max_length=16, choices=MessageOrigin.choices, blank=True, default=""
    )
    last_response_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True)
    last_activity_at = models.DateTimeField()  # its newest message or its closing
    messages_in = models.PositiveIntegerField(default=0)
    messages_out = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_response_at__isnull=True)
                | Q(first_response_at__gte=models.F("started_at")),
                name="reports_episode_response_after_start",
            ),
        ]
        indexes = [
            # The page's figures: episodes started in the range (all accounts, or one).
            models.Index(fields=["started_at"], name="report_episode_start_idx"),
            models.Index(fields=["account", "started_at"], name="report_episode_acct_idx"),
            # The CSV: episodes grouped by conversation, in order.
            models.Index(fields=["conversation", "started_at"], name="report_episode_conv_idx"),
            # "Waiting now": open episodes by when the customer last wrote.
            models.Index(
                fields=["last_customer_message_at"],
                condition=Q(closed_at__isnull=True),
                name="report_episode_waiting_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Episode of conversation {self.conversation_id} from {self.started_at:%Y-%m-%d}"


class Activity(models.Model):
    """How many messages a conversation had in one hour (UTC): the customer's, and ours that
    Meta accepted, by the agent who wrote them (none: the Instagram app, or unknown); and
    how many episodes a customer's message opened in it."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(InstagramAccount, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    messages_in = models.PositiveIntegerField(default=0)
    messages_out = models.PositiveIntegerField(default=0)
    episodes_opened = models.PositiveIntegerField(default=0)  # customers' new requests

    class Meta:
        verbose_name_plural = "activity"
        indexes = [
            # Volume per day and busy hours: rows in the range (all accounts, or one).
            models.Index(fields=["hour"], name="report_activity_hour_idx"),
            models.Index(fields=["account", "hour"], name="report_activity_acct_idx"),
            # Rebuilding a conversation's rows.
            models.Index(fields=["conversation"], name="report_activity_conv_idx"),
            # Per agent: replies by author in the range.
            models.Index(
                fields=["author", "hour"],
                condition=Q(author__isnull=False),
                name="report_activity_author_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.conversation_id} at {self.hour:%Y-%m-%d %H}:00"


class HourTotal(models.Model):
    """`Activity` summed over an account's conversations, per hour (UTC): what the volume
    chart and the busy hours read when no filter needs the conversations themselves, a
    row per account and hour rather than one per conversation. Kept by adding the
    difference each rebuild of a conversation makes (`services/totals.py`)."""

    account = models.ForeignKey(InstagramAccount, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    messages_in = models.IntegerField(default=0)
    messages_out = models.IntegerField(default=0)
    episodes_opened = models.IntegerField(default=0)

    class Meta:
        constraints = [
            # Also the index of the volume query with an account filter.
            models.UniqueConstraint(fields=["account", "hour"], name="report_hourtotal_unique"),
        ]
        indexes = [
            # Volume per day and busy hours, all accounts.
            models.Index(fields=["hour"], name="report_hourtotal_hour_idx"),
        ]

    def __str__(self) -> str:
        return f"Account {self.account_id} at {self.hour:%Y-%m-%d %H}:00"


class SummaryState(models.Model):
    """One row: how far the summary has caught up with the inbox (our clock): the last
    catch-up, and the last that also looked back for late commits (`settled_at`)."""

    caught_up_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Reports summary caught up at {self.caught_up_at}"
