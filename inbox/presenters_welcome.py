"""What an empty inbox says to whoever opens it: a manager is told where their work is
(the reports, and the conversations in Django admin); in the sandbox, a newcomer is sent to
the customer simulator to write the first message."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.urls import reverse

from accounts.roles import user_is_manager


@dataclass(frozen=True)
class Link:
    label: str  # on a button: "Conversations in admin"
    url: str
    words: str  # in a sentence: "admin"


@dataclass(frozen=True)
class Welcome:
    manager_links: tuple[Link, ...] = ()  # a manager who works no inbox: where to go


def welcome_present(*, user: AbstractBaseUser | AnonymousUser, works_an_inbox: bool) -> Welcome:
    """Only for an empty list: a manager who is no member of any account sees no
    conversation here, so the page says where the conversations are."""
    if works_an_inbox or not isinstance(user, User) or not user_is_manager(user):
        return Welcome()
    return Welcome(
        manager_links=(
            Link("Reports", reverse("reports:page"), "the reports"),
            Link("Conversations in admin", reverse("admin:inbox_conversation_changelist"), "admin"),
        )
    )
