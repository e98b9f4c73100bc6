"""Who may do what: admins, managers and agents."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.db.models import Q, QuerySet

from .models import InstagramAccount

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

MANAGERS_GROUP = "Managers"
# Apps whose every model managers may view in Django admin.
MANAGED_APPS = ("accounts", "inbox", "team", "auth")


def agent_name(user: AbstractBaseUser | AnonymousUser) -> str:
    """How colleagues see an agent: their first name, else their username."""
    short = getattr(user, "get_short_name", lambda: "")()
    return str(short or user.get_username())


def user_is_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Admins (superusers, and agents created with `createagent --admin`) see every account
    and may connect accounts."""
    return bool(user.is_active and getattr(user, "is_superuser", False))


def user_is_manager(user: User) -> bool:
    """Managers are staff in the Managers group: they view everything in Django admin."""
    return bool(
        user.is_active and user.is_staff and user.groups.filter(name=MANAGERS_GROUP).exists()
    )


def accounts_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[InstagramAccount]:
    """The accounts whose inboxes `user` may work."""
    if not user.is_authenticated or not user.is_active:
        return InstagramAccount.objects.none()
    if user_is_admin(user):
        return InstagramAccount.objects.all()
    return InstagramAccount.objects.filter(members__pk=user.pk)


def account_agents(*, account_id: int) -> QuerySet[User]:
    """Who may work an account's inbox: its members and the admins, active ones only."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(instagram_accounts=account_id) | Q(is_superuser=True))
        .distinct()
    )


def managers_group_ensure() -> Group:
    """The Managers group holds every view permission of our apps, and nothing else."""
    group, _ = Group.objects.get_or_create(name=MANAGERS_GROUP)
    view_permissions = Permission.objects.filter(
        content_type__app_label__in=MANAGED_APPS, codename__startswith="view_"
    )
    group.permissions.set(view_permissions)
    return group
