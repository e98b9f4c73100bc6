"""Conversations, messages, reactions, per-agent read state and the webhook event ledger."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import InstagramAccount
from common.bidi import isolate


def _choices_check(
    field: str, choices: type[models.TextChoices], name: str
) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


class ConversationStatus(models.TextChoices):
    OPEN = "open", "Open"
    # "Resolved" on every page and in admin: "closed" would read as the reply window's state.
    # The stored value (and the list's `?status=closed`) stays "closed".
    CLOSED = "closed", "Resolved"


class Conversation(models.Model):
    """One customer (IGSID) talking to one connected account (IG_ID)."""

    Status = ConversationStatus

    account = models.ForeignKey(
        InstagramAccount, on_delete=models.PROTECT, related_name="conversations"
    )
    customer_igsid = models.CharField("customer IGSID", max_length=64)
    # The customer's profile, from the User Profile API (fetched asynchronously).
    customer_name = models.CharField(max_length=255, blank=True)
    customer_username = models.CharField(max_length=255, blank=True)
    customer_picture_url = models.URLField(max_length=2000, blank=True)
    customer_follower_count = models.PositiveIntegerField(null=True, blank=True)
    customer_follows_business = models.BooleanField(null=True, blank=True)
    business_follows_customer = models.BooleanField(null=True, blank=True)
    customer_is_verified = models.BooleanField(null=True, blank=True)
    profile_fetched_at = models.DateTimeField(null=True, blank=True)
    profile_error = models.CharField(max_length=255, blank=True)
    # The reply window runs from this, by Meta's clock (the newest customer message's timestamp).
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    # When the newest customer message reached us (our clock): drives unread state.
    last_inbound_received_at = models.DateTimeField(null=True, blank=True)
    # The newest message of any kind, by Meta's clock, and its preview: drives the list.
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_message_preview = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # Another app (Instagram's own inbox, a bot) controls the thread: Meta sends its events
    # to us on `standby` and may refuse our replies. Since when (Meta's clock), or None.
    other_app_since = models.DateTimeField(null=True, blank=True)
    # Meta's time of the newest event that told who controls the thread (forward only).
    control_seen_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
    )
    # Snoozed: out of the Open list until then (beat wakes it), or until the customer writes.
    snoozed_until = models.DateTimeField(null=True, blank=True)
    labels: models.ManyToManyField[Label, ConversationLabel] = models.ManyToManyField(
        "Label", through="ConversationLabel", related_name="conversations", blank=True
    )
    # Bumped after every commit that changes what the open thread shows (inbox.services.live):
    # the thread's live poll compares it and answers 204 without reading the messages.
    live_version = models.BigIntegerField(default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "customer_igsid"], name="inbox_conversation_unique_customer"
            ),
            _choices_check("status", ConversationStatus, "inbox_conversation_status_valid"),
        ]
        indexes = [
            # The inbox list: an account's open/closed conversations, newest activity first.
            models.Index(fields=["account", "status", "-last_message_at"], name="conv_list_idx"),
            # "Mine": an agent's assigned conversations, newest first.
            models.Index(fields=["assignee", "status", "-last_message_at"], name="conv_mine_idx"),
            # The wake-up beat: snoozed conversations whose time has come.
            models.Index(
                fields=["snoozed_until"],
                condition=Q(snoozed_until__isnull=False),
                name="conv_snoozed_idx",
            ),
            # "Reply window ending": open conversations by the customer's last message.
            models.Index(fields=["status", "last_customer_message_at"], name="conv_window_idx"),
            # Reports: conversations changed since the summary last caught up.
            models.Index(fields=["updated_at"], name="conv_changed_idx"),
        ]

    def __str__(self) -> str:
        # Isolated: Django admin shows this inline (breadcrumbs, titles), beside other text.
        who = (
            f"@{isolate(self.customer_username)}" if self.customer_username else self.customer_igsid
        )
        return f"{who} → {self.account}"

    @property
    def display_name(self) -> str:
        return self.customer_name or (
            f"@{self.customer_username}" if self.customer_username else self.customer_igsid
        )


class LabelColor(models.TextChoices):
    GRAY = "gray", "Gray"
    RED = "red", "Red"
    ORANGE = "orange", "Orange"
    YELLOW = "yellow", "Yellow"
    GREEN = "green", "Green"
    TEAL = "teal", "Teal"
    BLUE = "blue", "Blue"
    PURPLE = "purple", "Purple"
    PINK = "pink", "Pink"


class Label(models.Model):
    """A colored tag agents put on conversations ("vip", "refund"); admins manage them."""

    Color = LabelColor
    NAME_MAX = 40

    name = models.CharField(max_length=NAME_MAX)
    color = models.CharField(max_length=10, choices=Color.choices, default=Color.GRAY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # One "VIP" whatever its case: agents type names, and the filter matches them so.
            models.UniqueConstraint(Lower("name"), name="inbox_label_unique_name"),
            _choices_check("color", LabelColor, "inbox_label_color_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class ConversationLabel(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="label_links"
    )
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="conversation_links")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label__name"]
        constraints = [
            # Also the index of a row's labels and of the label filter's EXISTS per row.
            models.UniqueConstraint(
                fields=["conversation", "label"], name="inbox_conversationlabel_unique"
            ),
        ]
        indexes = [
            # A label's conversations (admin, counting a label's use before deleting it).
            models.Index(fields=["label", "conversation"], name="convlabel_label_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.label} on {self.conversation_id}"


class ConversationReadState(models.Model):
    """When an agent last read a conversation: unread while a newer customer message exists."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="read_states"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="read_states"
    )
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "user"], name="inbox_readstate_unique_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} read {self.conversation} at {self.read_at:%Y-%m-%d %H:%M}"


class LiveVersion(models.Model):
    """A change counter the live polls compare instead of rendering: one row per account
    (every change an agent of the account could see bumps it) and one per agent (their own
    read state). Bumped only by `inbox.services.live`."""

    account = models.OneToOneField(
        InstagramAccount,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="live_version",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="live_version",
    )
    version = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=False, user__isnull=True)
                | Q(account__isnull=True, user__isnull=False),
                name="inbox_liveversion_one_owner",
            ),
        ]

    def __str__(self) -> str:
        owner = f"account {self.account_id}" if self.account_id else f"user {self.user_id}"
        return f"Live version of {owner}: {self.version}"


class MessageDirection(models.TextChoices):
    INBOUND = "in", "From the customer"
    OUTBOUND = "out", "To the customer"


class MessageOrigin(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    AGENT = "agent", "Agent (this inbox)"
    BUSINESS_APP = "business_app", "Instagram app"  # an echo of a message sent elsewhere


class MessageKind(models.TextChoices):
    TEXT = "text", "Text"
    ATTACHMENT = "attachment", "Attachment"
    STICKER = "sticker", "Sticker"
    POSTBACK = "postback", "Postback"
    REFERRAL = "referral", "Referral"
    OPTIN = "optin", "Opt-in"
    UNSUPPORTED = "unsupported", "Unsupported"


class MessageStatus(models.TextChoices):
    NONE = "", "—"  # inbound messages have no delivery status
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    SEEN = "seen", "Seen"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown: check Instagram"


class MessageTag(models.TextChoices):
    NONE = "", "None"
    HUMAN_AGENT = "HUMAN_AGENT", "Human agent"


# A customer's message that carries a referral (an ig.me link or ad followed): a referral of
# its own, or one inside a button's tap or a message. The customer panel's ad reads these,
# and a partial index of these few rows serves it whatever the thread's length.
CARRIES_REFERRAL = Q(direction="in") & (Q(kind="referral") | Q(details__has_key="referral"))


class Message(models.Model):
    Direction = MessageDirection
    Origin = MessageOrigin
    Kind = MessageKind
    Status = MessageStatus
    Tag = MessageTag

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    # Denormalised from the conversation so a mid is unique per account in the database.
    account = models.ForeignKey(InstagramAccount, on_delete=models.PROTECT, related_name="+")
    mid = models.CharField("Meta message id", max_length=255, blank=True)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    origin = models.CharField(max_length=16, choices=Origin.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    text = models.TextField(blank=True)
    # [{"type": "image", "url": "...", "title": "...", ...}], as Meta sent them or we sent them.
    attachments = models.JSONField(default=list, blank=True)
    reply_to_mid = models.CharField(max_length=255, blank=True)
    reply_to_story_url = models.URLField(max_length=2000, blank=True)
    reply_to_story_id = models.CharField(max_length=64, blank=True)
    quick_reply_payload = models.CharField(max_length=1000, blank=True)
    # Postback, referral and opt-in details: {"title", "payload", "ref", "source", "ad_id", ...}.
    details = models.JSONField(default=dict, blank=True)
    # Meta's clock (the event's `timestamp`); for our own replies, when the agent wrote it.
    timestamp = models.DateTimeField(default=timezone.now)
    # Meta's `num_edit`: the highest edit number seen for this message.
    edit_count = models.PositiveIntegerField(default=0)
    # Received on `standby`: another app controlled the thread when it arrived.
    via_standby = models.BooleanField("received on standby", default=False)
    # The edit number of the text we hold: below `edit_count` while an edit that came without
    # its text is being read from Meta (the text shown until then is the previous one).
    text_edit_count = models.PositiveIntegerField(default=0)
    # The texts an edit replaced, oldest first: [{"text": ..., "edit": n, "replaced_at": iso}].
    earlier_texts = models.JSONField(default=list, blank=True)
    is_deleted = models.BooleanField("unsent", default=False)
    # Read from Meta's Conversations API (history sync) rather than delivered by webhook.
    imported = models.BooleanField(default=False)
    # Outbound delivery.
    status = models.CharField(max_length=10, choices=Status.choices, blank=True, default="")
    tag = models.CharField(max_length=20, choices=Tag.choices, blank=True, default="")
    error_code = models.CharField(max_length=40, blank=True)
    error_reason = models.CharField(max_length=1000, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="authored_messages",
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    # A queued reply waiting out a back-off (Retry-After, rate limit) is not due before this:
    # the sweep must not re-queue it early.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["timestamp", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "mid"],
                condition=~Q(mid=""),
                name="inbox_message_unique_mid",
            ),
            _choices_check("direction", MessageDirection, "inbox_message_direction_valid"),
            _choices_check("origin", MessageOrigin, "inbox_message_origin_valid"),
            _choices_check("kind", MessageKind, "inbox_message_kind_valid"),
            _choices_check("status", MessageStatus, "inbox_message_status_valid"),
            _choices_check("tag", MessageTag, "inbox_message_tag_valid"),
            models.CheckConstraint(
                condition=Q(direction="in", origin="customer", status="")
                | Q(direction="out", origin__in=["agent", "business_app"]) & ~Q(status=""),
                name="inbox_message_direction_matches_origin",
            ),
        ]
        indexes = [
            # The thread: a conversation's messages in Meta-time order.
            models.Index(fields=["conversation", "timestamp", "id"], name="msg_thread_idx"),
            # The list's rows: each conversation's newest reply by an agent (did it fail?).
            models.Index(
                fields=["conversation", "-timestamp", "-id"],
                condition=Q(origin="agent"),
                name="msg_last_reply_idx",
            ),
            # The outbound sweep: rows waiting or stuck in flight.
            models.Index(
                fields=["status", "updated_at"],
                condition=Q(status__in=["queued", "sending"]),
                name="msg_outbound_pending_idx",
            ),
            # The customer panel's ad: the newest messages that carry a referral. Without it the
            # query reads every message of a thread that has none (51,712 in the longest).
            models.Index(
                fields=["conversation", "-timestamp", "-id"],
                condition=CARRIES_REFERRAL,
                name="msg_referral_idx",
            ),
            # Reports: our messages Meta accepted or refused since the summary caught up.
            models.Index(
                fields=["updated_at"],
                condition=Q(direction="out"),
                name="msg_out_changed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.kind} {self.mid or self.pk}"

    @property
    def is_edited(self) -> bool:
        return self.edit_count > 0

    @property
    def edit_text_pending(self) -> bool:
        """Edited on Instagram, and the new text has not reached us (yet)."""
        return self.text_edit_count < self.edit_count and not self.is_deleted


class ReactionActor(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    BUSINESS = "business", "Business"


class Reaction(models.Model):
    """One reaction per side on a message: the customer's (from webhooks) or ours (sent here)."""

    Actor = ReactionActor

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    actor = models.CharField(max_length=10, choices=Actor.choices)
    reaction = models.CharField(max_length=32, blank=True)  # Meta's name, e.g. "love"
    emoji = models.CharField(max_length=16, blank=True)
    reacted_at = models.DateTimeField(default=timezone.now)  # Meta's clock when known
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["reacted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "actor"], name="inbox_reaction_one_per_actor"
            ),
            _choices_check("actor", ReactionActor, "inbox_reaction_actor_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_actor_display()} {self.emoji or self.reaction} on {self.message_id}"


class WebhookEventState(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"
    WAITING_ACCOUNT = "waiting_account", "Waiting for its account"


class WebhookEvent(models.Model):
    """The durable ledger: every authentic webhook body, stored before we answer 200."""

    State = WebhookEventState

    body = models.TextField()
    # A byte-identical redelivery adds no row (`event_unique_body`).
    body_sha256 = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32, blank=True)  # "instagram", "page", ...
    account_ids = models.JSONField(default=list, blank=True)  # every entry[].id in the body
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            _choices_check("state", WebhookEventState, "inbox_webhookevent_state_valid"),
            # A constraint rather than `unique=True`, which on PostgreSQL adds a second index
            # for LIKE searches: a hash is only ever compared whole, and every webhook pays
            # for each index on this table.
            models.UniqueConstraint(fields=["body_sha256"], name="event_unique_body"),
        ]
        indexes = [
            # The sweep: unprocessed events, oldest first.
            models.Index(
                fields=["state", "received_at"],
                condition=Q(state__in=["pending", "processing", "waiting_account"]),
                name="event_unprocessed_idx",
            ),
            # The drain: fresh events, oldest first. An ordered scan that stops once it has a
            # group; the index above, shared with processed rows' dead versions until the
            # next vacuum, made each claim of a burst slower than the last.
            models.Index(
                fields=["received_at", "id"],
                condition=Q(state="pending", attempts=0),
                name="event_fresh_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Webhook event {self.pk} ({self.state})"


class HistorySyncState(models.TextChoices):
    IDLE = "idle", "Not run yet"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class HistorySync(models.Model):
    """One account's history sync (Meta's Conversations API): its progress, where to resume
    (`cursor`, the conversations page under way) and when the last complete sync began
    (reconciliation reads only conversations updated since). `lease_until`: a running
    sync's claim, renewed as it goes, so two syncs of an account never run at once. The
    accounts page shows it (`inbox/history/progress.py`)."""

    State = HistorySyncState

    account = models.OneToOneField(
        InstagramAccount, on_delete=models.CASCADE, related_name="history_sync"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.IDLE)
    cursor = models.CharField(max_length=2000, blank=True)
    since = models.DateTimeField(null=True, blank=True)  # this run reads conversations after
    lease_until = models.DateTimeField(null=True, blank=True)
    # An admin asked for a sync that has not started yet (the page shows it as queued).
    requested_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    conversations_found = models.PositiveIntegerField(default=0)
    conversations_done = models.PositiveIntegerField(default=0)
    messages_read = models.PositiveIntegerField(default=0)
    messages_stored = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [_choices_check("state", HistorySyncState, "inbox_historysync_state_valid")]

    def __str__(self) -> str:
        return f"History sync of account {self.account_id} ({self.state})"
