"""Agents: the people who work the inboxes (the `createagent` command's service)."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction

from .models import InstagramAccount
from .roles import managers_group_ensure


@transaction.atomic
def agent_upsert(
    *,
    username: str,
    password: str | None,
    account_ig_ids: Sequence[str] = (),
    is_admin: bool = False,
    is_manager: bool = False,
) -> tuple[User, bool]:
    """Create or update an agent. Admins see every account and may connect accounts;
    managers (staff in the Managers group) may view everything in Django admin, and work
    the inboxes of the accounts named, if any, as agents do."""
    if is_admin and is_manager:
        raise ValueError("An agent is an admin or a manager, not both: admins see it all.")
    accounts = list(InstagramAccount.objects.filter(ig_id__in=account_ig_ids))
    missing = set(account_ig_ids) - {a.ig_id for a in accounts}
    if missing:
        raise ValueError(f"No connected account with id {', '.join(sorted(missing))}.")
    user, created = User.objects.get_or_create(username=username)
    if created and not password:
        raise ValueError("A new agent needs --password.")
    if password:
        user.set_password(password)
    user.is_active = True
    if is_admin:
        user.is_superuser = user.is_staff = True
    if is_manager:
        if user.is_superuser:
            raise ValueError(f"{username} is an admin, who sees all that managers see.")
        user.is_staff = True  # Django admin lets in staff only
    user.save()
    if is_manager:
        user.groups.add(managers_group_ensure())
    if accounts:
        user.instagram_accounts.add(*accounts)
    return user, created
