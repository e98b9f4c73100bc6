"""Read queries for the inbox."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from accounts.roles import accounts_for_user, user_is_admin

from .models import Conversation


def conversations_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Conversation]:
    """Every conversation `user` may see: those of the accounts they are a member of."""
    conversations = Conversation.objects.select_related("account", "assignee")
    if user_is_admin(user):
        return conversations
    return conversations.filter(account__in=accounts_for_user(user))
