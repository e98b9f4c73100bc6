"""`{{ user|agent_name }}`: how colleagues see an agent, the rule of `accounts.roles`."""

from __future__ import annotations

from django import template
from django.contrib.auth.base_user import AbstractBaseUser

from accounts.roles import agent_name as _agent_name

register = template.Library()


@register.filter
def agent_name(user: AbstractBaseUser | None) -> str:
    return _agent_name(user) if user is not None else ""
