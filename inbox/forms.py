"""Forms of the inbox: they parse and validate; the services decide."""

from __future__ import annotations

from django import forms

from .models import Conversation
from .selectors import Box, ListFilters

ATTACHMENT_TYPES = [
    ("image", "Image"),
    ("video", "Video"),
    ("audio", "Audio"),
    ("file", "File (PDF)"),
]


class ListFilterForm(forms.Form):
    """The list's query string. Anything malformed falls back to the default view."""

    account = forms.IntegerField(required=False, min_value=1)
    status = forms.ChoiceField(choices=Conversation.Status.choices, required=False)
    box = forms.ChoiceField(choices=Box.CHOICES, required=False)
    q = forms.CharField(required=False, max_length=100, strip=True)

    def filters(self) -> ListFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return ListFilters(
            account_id=data.get("account") or None,
            status=data.get("status") or Conversation.Status.OPEN,
            box=data.get("box") or Box.ALL,
            q=data.get("q") or "",
        )


class ReplyForm(forms.Form):
    # Not stripped: leading spaces or blank lines can be intended; the byte limit is the
    # sending service's to enforce, with the count in its message.
    text = forms.CharField(required=False, strip=False, widget=forms.Textarea)
    attachment_url = forms.URLField(required=False, max_length=2000, assume_scheme="https")
    attachment_type = forms.ChoiceField(choices=ATTACHMENT_TYPES, required=False)
    upload = forms.FileField(required=False)
    sticker = forms.BooleanField(required=False)

    def clean_text(self) -> str:
        # Browsers submit a textarea's line breaks as CRLF; Instagram shows "\n".
        text = str(self.cleaned_data.get("text") or "").replace("\r\n", "\n")
        return text if text.strip() else ""


class AssignForm(forms.Form):
    """`assignee`: a user id, or empty to unassign."""

    assignee = forms.IntegerField(required=False, min_value=1)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Conversation.Status.choices)
