"""`{% if user|may_see_reports %}`: the top bar's Reports link."""

from __future__ import annotations

from typing import Any

from django import template

from reports.access import user_may_see_reports

register = template.Library()


@register.filter
def may_see_reports(user: Any) -> bool:
    return user_may_see_reports(user)
