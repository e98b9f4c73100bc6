"""Connected Instagram professional accounts and who may work their inboxes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .crypto import decrypt_token, encrypt_token


class InstagramAccount(models.Model):
    class Source(models.TextChoices):
        OAUTH = "oauth", "Instagram Login"
        ENV = "env", "Environment"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
        DISCONNECTED = "disconnected", "Disconnected"

    # IG_ID: `user_id` of GET /me and `entry[].id` of webhooks. A string: it can exceed 64 bits.
    ig_id = models.CharField("Instagram account id", max_length=64, unique=True)
    username = models.CharField(max_length=255, blank=True)
    name = models.CharField(max_length=255, blank=True)
    profile_picture_url = models.URLField(max_length=2000, blank=True)
    graph_api_url = models.URLField("Graph API base URL", max_length=500)
    token_ciphertext = models.TextField(blank=True, editable=False)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    token_refreshed_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.OAUTH)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(max_length=500, blank=True)
    human_agent_enabled = models.BooleanField(
        "human agent tag",
        default=True,
        help_text="Reply from 24 hours to 7 days after the customer's last message with "
        "Meta's HUMAN_AGENT tag (needs the Human Agent feature on the Meta app).",
    )
    # Webhook health (the accounts page, the daily check). Written by the intake worker at
    # most once a minute per account, so a burst of webhooks costs one statement.
    last_webhook_at = models.DateTimeField("last webhook", null=True, blank=True)
    # What Meta listed at the last daily check of `GET /me/subscribed_apps`, comma-separated.
    subscribed_fields = models.CharField(max_length=500, blank=True)
    subscription_checked_at = models.DateTimeField(null=True, blank=True)
    # Why the subscription is not complete ("": complete, or never checked).
    subscription_problem = models.CharField(max_length=500, blank=True)
    # When Meta refused a tagged reply because the app lacks the Human Agent feature (and
    # the switch above was turned off for it): the admins' banner says so for a while.
    human_agent_refused_at = models.DateTimeField(null=True, blank=True, editable=False)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="instagram_accounts", blank=True
    )
    # Auto-assignment: new and reopened conversations go round-robin to the members online,
    # each up to `auto_assign_limit` open conversations; `auto_assign_last` is whom the
    # round last gave one to.
    auto_assign = models.BooleanField(
        "auto-assign",
        default=False,
        help_text="Give new and reopened conversations in turn to the members who are online.",
    )
    auto_assign_limit = models.PositiveSmallIntegerField(
        "open conversations per agent",
        default=10,
        help_text="An agent with this many open conversations gets no more automatically.",
    )
    auto_assign_last = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["username", "ig_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=["oauth", "env"]),
                name="accounts_instagramaccount_source_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "needs_reconnect", "disconnected"]),
                name="accounts_instagramaccount_status_valid",
            ),
        ]
        indexes = [
            # The refresh job: OAuth accounts ordered by expiry.
            models.Index(fields=["source", "token_expires_at"], name="account_refresh_idx"),
        ]

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else self.ig_id

    @property
    def access_token(self) -> str:
        return decrypt_token(self.token_ciphertext)

    @access_token.setter
    def access_token(self, token: str) -> None:
        self.token_ciphertext = encrypt_token(token)

    @property
    def can_send(self) -> bool:
        return self.status == self.Status.ACTIVE and bool(self.token_ciphertext)


class AgentPresence(models.Model):
    """When an agent last had the inbox open (its live polls, written at most once a minute):
    "online" for auto-assignment."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presence"
    )
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user} seen at {self.seen_at:%Y-%m-%d %H:%M}"
