"""Connected accounts in Django admin: read-only, but for the human-agent switch,
auto-assignment and the members."""

from django.contrib import admin
from django.http import HttpRequest

from .models import InstagramAccount


@admin.register(InstagramAccount)
class InstagramAccountAdmin(admin.ModelAdmin):
    # The token (even encrypted) never appears: it is not in `fields`.
    list_display = [
        "__str__",
        "ig_id",
        "source",
        "status",
        "human_agent_enabled",
        "auto_assign",
        "token_expires_at",
    ]
    list_filter = ["source", "status", "human_agent_enabled"]
    search_fields = ["username", "name", "ig_id"]
    FIELDS = (
        "ig_id",
        "username",
        "name",
        "profile_picture_url",
        "graph_api_url",
        "source",
        "status",
        "status_reason",
        "human_agent_enabled",
        "auto_assign",
        "auto_assign_limit",
        "members",
        "token_expires_at",
        "token_refreshed_at",
        "created_at",
        "updated_at",
    )
    fields = FIELDS
    # Everything is shown read-only but the human-agent switch, auto-assignment and members.
    readonly_fields = [
        f
        for f in FIELDS
        if f not in ("human_agent_enabled", "auto_assign", "auto_assign_limit", "members")
    ]
    filter_horizontal = ["members"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # accounts are connected through Instagram Login or the environment
