"""Django admin for managers: the whole history, read-only."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from accounts.admin import InstagramAccountAdmin
from accounts.models import InstagramAccount
from accounts.roles import user_is_admin
from common.admin import ReadOnlyAdminMixin

from .history.sync import history_start_request
from .intake.sweep import webhook_events_reprocess
from .models import Conversation, Label, Message, Reaction, WebhookEvent
from .presenters import window_present
from .presenters_actions import (
    AdView,
    conversation_ad_present,
    message_action_present,
    message_came_from_present,
)
from .services.labels import LabelRefused, label_name_clean

MESSAGE_FIELDS = (
    "timestamp",
    "direction",
    "origin",
    "kind",
    "text",
    "attachments",
    "status",
    "tag",
    "error_code",
    "error_reason",
    "author",
    "mid",
    "edit_count",
    "is_deleted",
    "via_standby",
    "imported",
)


class MessageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Message
    fields = MESSAGE_FIELDS
    readonly_fields = MESSAGE_FIELDS
    ordering = ["timestamp", "id"]
    extra = 0
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("author")


def _ad_html(ad: AdView | None) -> str:
    """A click-to-DM ad for managers: its title, its photo as a link (http(s) only) and ids."""
    if ad is None:
        return "—"
    photo = format_html(' · <a href="{}" rel="noopener noreferrer">photo</a>', ad.photo_url)
    return format_html(
        "Ad “{}” · ad ID {}{}{}",
        ad.title or "without a title",
        ad.ad_id or "unknown",
        format_html(" · post {}", ad.post_id) if ad.post_id else "",
        photo if ad.photo_url else "",
    )


class LabelAdminForm(forms.ModelForm):
    class Meta:
        model = Label
        fields = ["name", "color"]

    def clean_name(self) -> str:
        try:
            return label_name_clean(self.cleaned_data.get("name") or "")
        except LabelRefused as refused:
            raise forms.ValidationError(refused.message) from refused


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    """Admins rename, recolor and delete labels (agents add them by name on a
    conversation); managers see them (view permission only)."""

    form = LabelAdminForm
    list_display = ["name", "color", "conversation_count", "created_at"]
    list_filter = ["color"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Label]:
        return (
            super().get_queryset(request).annotate(conversation_count=Count("conversation_links"))
        )

    @admin.display(description="conversations", ordering="conversation_count")
    def conversation_count(self, obj: Label) -> int:
        return int(getattr(obj, "conversation_count", 0))


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "customer_name",
        "account",
        "status",
        "reply_window",
        "assignee",
        "label_names",
        "snoozed_until",
        "last_message_at",
    ]
    list_filter = ["account", "status", "assignee", "labels", "last_message_at"]
    search_fields = ["customer_username", "customer_name", "customer_igsid", "messages__text"]
    date_hierarchy = "last_message_at"
    list_select_related = ["account", "assignee"]
    inlines = [MessageInline]
    readonly_fields = ["came_from_ad", "reply_window"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        return super().get_queryset(request).prefetch_related("labels")

    @admin.display(description="labels")
    def label_names(self, obj: Conversation) -> str:
        return ", ".join(label.name for label in obj.labels.all()) or "—"

    @admin.display(description="came from ad")
    def came_from_ad(self, obj: Conversation) -> str:
        return _ad_html(conversation_ad_present(conversation=obj))

    @admin.display(description="reply window")
    def reply_window(self, obj: Conversation) -> str:
        # The same words as the inbox: "23 h left", "reply window ended" (never "closed",
        # which is the status column's word for nothing here: that one says "Resolved").
        return window_present(conversation=obj).label


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "timestamp",
        "conversation",
        "direction",
        "origin",
        "kind",
        "status",
        "short_text",
    ]
    list_filter = ["direction", "origin", "kind", "status", "imported", "account", "timestamp"]
    search_fields = [
        "text",
        "mid",
        "conversation__customer_username",
        "conversation__customer_igsid",
    ]
    date_hierarchy = "timestamp"
    list_select_related = ["conversation__account"]
    show_full_result_count = False
    # What the customer tapped or came from, and the edit history (earlier versions of the
    # text, newest first) in words rather than as raw JSON.
    exclude = ["earlier_texts"]
    readonly_fields = ["customer_action", "earlier_versions"]

    @admin.display(description="text")
    def short_text(self, obj: Message) -> str:
        return obj.text[:80]

    @admin.display(description="what the customer tapped or came from")
    def customer_action(self, obj: Message) -> str:
        """The postback, referral or opt-in, or a message's referral, in words."""
        action = message_action_present(obj) or message_came_from_present(obj)
        if action is None:
            return "—"
        parts = [action.label or "Message", action.source, action.ref and f"ref “{action.ref}”"]
        summary = " · ".join(part for part in parts if part)
        payload = format_html(" · payload <code>{}</code>", action.payload)
        return format_html(
            "{}{}{}",
            summary,
            payload if action.payload else "",
            format_html("<br>{}", _ad_html(action.ad)) if action.ad else "",
        )

    @admin.display(description="earlier versions (newest first)")
    def earlier_versions(self, obj: Message) -> str:
        versions = [v for v in reversed(obj.earlier_texts) if isinstance(v, dict)]
        if not versions:
            return "—"
        items = format_html_join(
            "",
            "<li><small>{}</small><br><span style='white-space:pre-wrap'>{}</span></li>",
            ((_version_label(v), str(v.get("text", ""))) for v in versions),
        )
        return format_html("<ol style='margin:0;padding-left:1.2rem'>{}</ol>", items)


def _version_label(version: dict[str, Any]) -> str:
    edit = version.get("edit")
    name = f"edit {edit}" if isinstance(edit, int) and edit > 0 else "original"
    replaced = version.get("replaced_at")
    return f"{name}, replaced {replaced}" if replaced else name


@admin.register(Reaction)
class ReactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["message", "actor", "reaction", "emoji", "reacted_at"]
    list_filter = ["actor"]


class NeedsAttentionFilter(admin.SimpleListFilter):
    """The events an admin may have to act on."""

    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("waiting_account", "Waiting for an account to be connected"),
            ("failed", "Failed"),
            ("unprocessed", "Not processed yet"),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[WebhookEvent]
    ) -> QuerySet[WebhookEvent]:
        State = WebhookEvent.State
        if self.value() == "waiting_account":
            return queryset.filter(state=State.WAITING_ACCOUNT)
        if self.value() == "failed":
            return queryset.filter(state=State.FAILED)
        if self.value() == "unprocessed":
            return queryset.filter(Q(state=State.PENDING) | Q(state=State.PROCESSING))
        return queryset


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    actions = ["reprocess"]
    list_display = [
        "id",
        "received_at",
        "object_type",
        "account_ids",
        "state",
        "attempts",
        "short_error",
    ]
    list_filter = [NeedsAttentionFilter, "state", "object_type", "received_at"]
    search_fields = ["body_sha256", "account_ids"]
    date_hierarchy = "received_at"
    exclude = ["body"]
    readonly_fields = ["pretty_body"]
    show_full_result_count = False

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        # Managers may look at the ledger, never act on it.
        return user_is_admin(request.user)

    @admin.action(description="Reprocess the selected events", permissions=["reprocess"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        count = webhook_events_reprocess(event_ids=queryset.values_list("pk", flat=True))
        skipped = queryset.count() - count
        note = f" ({skipped} being processed right now left alone)" if skipped else ""
        self.message_user(
            request, f"{count} event(s) queued for processing{note}.", messages.SUCCESS
        )

    @admin.display(description="error")
    def short_error(self, obj: WebhookEvent) -> str:
        return obj.last_error[:80]

    @admin.display(description="payload")
    def pretty_body(self, obj: WebhookEvent) -> str:
        try:
            text = json.dumps(json.loads(obj.body), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):  # stored as received: shown as received
            text = obj.body
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", text)


class InstagramAccountHistoryAdmin(InstagramAccountAdmin):
    """The accounts' admin, with the inbox's "Sync history" action (for admins: managers
    only look). Registered here, in place of the accounts' own, as the sync is the inbox's."""

    actions = ["sync_history"]  # the accounts' admin has none of its own

    def has_sync_history_permission(self, request: HttpRequest) -> bool:
        return user_is_admin(request.user)

    @admin.action(description="Sync history", permissions=["sync_history"])
    def sync_history(self, request: HttpRequest, queryset: QuerySet[InstagramAccount]) -> None:
        for account in queryset.order_by("pk"):
            queued, text = history_start_request(account=account)
            self.message_user(request, text, messages.SUCCESS if queued else messages.WARNING)


admin.site.unregister(InstagramAccount)
admin.site.register(InstagramAccount, InstagramAccountHistoryAdmin)
