"""Team work around a conversation: internal notes and their @mentions, saved replies, and
the activity log (who assigned, closed, labelled, snoozed or noted what, and when).

The inbox builds on this app, not the other way round: conversations and accounts are
named by their app label here, and nothing of `inbox` is imported."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

NOTE_MAX_CHARS = 2000
SAVED_REPLY_MAX_BYTES = 1000  # a reply's limit on Instagram (checked in bytes by the form)


class Note(models.Model):
    """An agent's note on a conversation: seen by the team, never sent to Meta."""

    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="notes"
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="team_note_text_not_empty"),
        ]
        indexes = [
            # A thread's notes in time order, interleaved with its messages.
            models.Index(fields=["conversation", "created_at"], name="team_note_thread_idx"),
        ]

    def __str__(self) -> str:
        return f"Note by {self.author} on {self.conversation}"


class Mention(models.Model):
    """`@username` in a note: the agent sees it in their Mentions until they read it."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions"
    )
    # Denormalised from the note's conversation: an agent sees the mentions of the accounts
    # they may still work, checked without joining every note and conversation.
    account = models.ForeignKey(
        "accounts.InstagramAccount", on_delete=models.CASCADE, related_name="+"
    )
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["note", "user"], name="team_mention_unique_user"),
        ]
        indexes = [
            # An agent's Mentions view, newest first.
            models.Index(fields=["user", "-created_at"], name="team_mention_user_idx"),
            # The unread count beside it, and "read" when the agent opens the conversation.
            models.Index(
                fields=["user", "account"],
                condition=Q(read_at__isnull=True),
                name="team_mention_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.user} in {self.note}"


class SavedReply(models.Model):
    """A canned answer admins write once; agents insert it with `/shortcut` and edit it
    before sending. `{first_name}`, `{username}`... are filled from the customer."""

    account = models.ForeignKey(
        "accounts.InstagramAccount",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_replies",
        help_text="Empty: every account.",
    )
    title = models.CharField(max_length=100)
    shortcut = models.SlugField(
        max_length=32, help_text="Typed after / in the reply box: letters, digits, - and _."
    )
    text = models.TextField(
        help_text="At most 1000 bytes. Placeholders: {first_name}, {name}, {username}, "
        "{agent_name}."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shortcut", "id"]
        verbose_name_plural = "saved replies"
        constraints = [
            models.UniqueConstraint(
                fields=["account", "shortcut"],
                name="team_savedreply_unique_shortcut",
                violation_error_message="This account has a saved reply with this shortcut.",
            ),
            models.UniqueConstraint(
                fields=["shortcut"],
                condition=Q(account__isnull=True),
                name="team_savedreply_unique_shortcut_all",
                violation_error_message="A saved reply for every account has this shortcut.",
            ),
            models.CheckConstraint(
                condition=~Q(text="") & ~Q(shortcut="") & ~Q(title=""),
                name="team_savedreply_not_blank",
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut} · {self.title}"


class ActivityKind(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    UNASSIGNED = "unassigned", "Unassigned"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"
    NOTE_ADDED = "note_added", "Note added"
    LABEL_ADDED = "label_added", "Label added"
    LABEL_REMOVED = "label_removed", "Label removed"
    SNOOZED = "snoozed", "Snoozed"
    UNSNOOZED = "unsnoozed", "Snooze ended"


class ActivityEvent(models.Model):
    """Who did what to a conversation, and when. `actor` is empty for the system (an
    automatic assignment, a snooze that ended); `detail` is the object of the action in
    words: the assignee's username, the label's name, the snooze's end."""

    Kind = ActivityKind

    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="activity"
    )
    # Denormalised from the conversation: managers filter the log by account.
    account = models.ForeignKey(
        "accounts.InstagramAccount", on_delete=models.CASCADE, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activity",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    detail = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "activity event"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ActivityKind.values), name="team_activity_kind_valid"
            ),
        ]
        indexes = [
            # A thread's activity lines in time order.
            models.Index(fields=["conversation", "created_at"], name="team_activity_thread_idx"),
            # The admin log, newest first, filtered by account.
            models.Index(fields=["account", "-created_at"], name="team_activity_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.conversation} · {self.created_at:%Y-%m-%d %H:%M}"
