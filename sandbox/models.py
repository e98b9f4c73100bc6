"""The fake Meta's own memory: simulated customers, what each one sees, injected faults."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class SandboxCustomer(models.Model):
    """A pretend Instagram user who writes to the sandbox account."""

    igsid = models.CharField("IGSID", max_length=64, unique=True)
    name = models.CharField(max_length=100)
    username = models.CharField(max_length=100)
    follows_business = models.BooleanField(default=True)
    # Meta's clock for the window the fake enforces (moved back by time travel).
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} (@{self.username})"


class SimulatedMessageDirection(models.TextChoices):
    FROM_CUSTOMER = "customer", "From the customer"
    FROM_BUSINESS = "business", "From the business"


class SimulatedMessage(models.Model):
    """The thread as the customer sees it in their Instagram app."""

    Direction = SimulatedMessageDirection

    customer = models.ForeignKey(SandboxCustomer, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    mid = models.CharField(max_length=100, unique=True)
    text = models.TextField(blank=True)
    attachment_type = models.CharField(max_length=20, blank=True)
    attachment_url = models.URLField(max_length=2000, blank=True)
    tag = models.CharField(max_length=20, blank=True)
    reaction = models.CharField(max_length=16, blank=True)  # the other side's reaction
    is_deleted = models.BooleanField(default=False)
    seen = models.BooleanField(default=False)
    timestamp = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["timestamp", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(direction__in=SimulatedMessageDirection.values),
                name="sandbox_simulatedmessage_direction_valid",
            )
        ]
        indexes = [models.Index(fields=["customer", "timestamp"], name="sandbox_thread_idx")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()}: {self.mid}"


class FaultKind(models.TextChoices):
    SERVER_ERROR = "500", "HTTP 500 (transient)"
    RATE_LIMITED = "429", "HTTP 429 rate limited"
    TOKEN_DEAD = "190", "Code 190: token expired"
    OUTSIDE_WINDOW = "window", "Code 10: outside the messaging window"


class SandboxFault(models.Model):
    """One injected failure: the next Graph call answers with it, then it is gone."""

    Kind = FaultKind

    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=FaultKind.values), name="sandbox_fault_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return self.get_kind_display()
