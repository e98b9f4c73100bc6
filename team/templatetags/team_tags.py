"""Template filters of team work: a note's text with its mentions, activity in words."""

from __future__ import annotations

from django import template

from team.presenters import activity_label, note_html
from team.selectors import mentions_unread_count

register = template.Library()

register.filter("note_html", note_html)
register.filter("activity_label", activity_label)


@register.simple_tag(takes_context=True)
def mentions_unread(context: template.Context) -> int:
    """The agent's unread mentions, for the link to their Mentions: counted by the view
    when it had to (a conversation opened), else here (one query)."""
    known = context.get("mentions_unread")
    if known is not None:
        return int(known)
    return mentions_unread_count(user=context["request"].user)
