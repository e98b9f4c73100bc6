"""Django admin for team work: admins write saved replies; managers read everything (the
activity log is read-only for everyone: it is history)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts.roles import user_is_admin
from common.admin import ReadOnlyAdminMixin

from .forms import SavedReplyForm
from .models import ActivityEvent, Mention, Note, SavedReply


class AdminsOnlyChangeMixin:
    """Admins add, change and delete; managers (view permission only) just look."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return user_is_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return user_is_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return user_is_admin(request.user)


@admin.register(SavedReply)
class SavedReplyAdmin(AdminsOnlyChangeMixin, admin.ModelAdmin):
    form = SavedReplyForm
    list_display = ["shortcut", "title", "account", "updated_at"]
    list_filter = ["account"]
    search_fields = ["shortcut", "title", "text"]
    list_select_related = ["account"]


@admin.register(ActivityEvent)
class ActivityEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "actor", "detail", "conversation", "account"]
    list_filter = ["kind", "actor", "account", "created_at"]
    search_fields = ["detail", "conversation__customer_username", "actor__username"]
    date_hierarchy = "created_at"
    list_select_related = ["actor", "account", "conversation__account"]
    show_full_result_count = False


class MentionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Mention
    fields = ["user", "read_at"]
    readonly_fields = ["user", "read_at"]
    extra = 0


@admin.register(Note)
class NoteAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "author", "conversation", "short_text"]
    list_filter = ["author", "conversation__account", "created_at"]
    search_fields = ["text", "conversation__customer_username"]
    date_hierarchy = "created_at"
    list_select_related = ["author", "conversation__account"]
    inlines = [MentionInline]
    show_full_result_count = False

    @admin.display(description="text")
    def short_text(self, obj: Note) -> str:
        return obj.text[:80]
