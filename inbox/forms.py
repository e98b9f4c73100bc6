"""Forms of the inbox: they parse and validate; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser

from .models import Conversation
from .selectors import SNOOZED, WINDOW_ENDING, Box, ListFilters

LIST_STATUSES = [*Conversation.Status.choices, (SNOOZED, "Snoozed")]
LABELS_IN_FILTER = 5

ATTACHMENT_TYPES = [
    ("image", "Image"),
    ("video", "Video"),
    ("audio", "Audio"),
    ("file", "File (PDF)"),
]


class ListFilterForm(forms.Form):
    """The list's query string. Anything malformed falls back to the default view."""

    account = forms.IntegerField(required=False, min_value=1)
    status = forms.ChoiceField(choices=LIST_STATUSES, required=False)
    box = forms.ChoiceField(choices=Box.CHOICES, required=False)
    q = forms.CharField(required=False, max_length=100, strip=True)
    window = forms.ChoiceField(choices=[(WINDOW_ENDING, "Reply window ending")], required=False)

    def filters(self) -> ListFilters:
        data = self.cleaned_data if self.is_valid() else {}
        # `?label=a&label=b`: every one of them; blank and repeated names count once.
        names = self.data.getlist("label") if hasattr(self.data, "getlist") else []
        labels = tuple(dict.fromkeys(" ".join(str(n).split()) for n in names if n.strip()))
        return ListFilters(
            account_id=data.get("account") or None,
            status=data.get("status") or Conversation.Status.OPEN,
            box=data.get("box") or Box.ALL,
            q=data.get("q") or "",
            labels=tuple(name[:100] for name in labels[:LABELS_IN_FILTER]),
            window=data.get("window") or "",
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

    def reply_fields(self) -> dict[str, Any]:
        """The valid form as `reply_create`'s keyword arguments."""
        data = self.cleaned_data
        if data.get("sticker"):
            # The heart goes out on its own; whatever is in the box stays a draft.
            return {"sticker": True}
        url = data.get("attachment_url") or ""
        return {
            "text": data["text"],
            "attachment_url": url,
            # The type picker sits beside the link; an upload's type is read from it.
            "attachment_type": (data.get("attachment_type") or "") if url else "",
            "upload": data.get("upload"),
        }


class AssignForm(forms.Form):
    """`assignee`: a user id, or empty to unassign; cleaned to the user, or None."""

    assignee = forms.IntegerField(
        required=False,
        min_value=1,
        error_messages={"invalid": "Choose an agent.", "min_value": "Choose an agent."},
    )

    def clean_assignee(self) -> AbstractBaseUser | None:
        assignee_id = self.cleaned_data.get("assignee")
        if assignee_id is None:
            return None
        assignee = get_user_model()._default_manager.filter(pk=assignee_id).first()
        if assignee is None:
            raise forms.ValidationError("That agent does not exist.")
        return assignee


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Conversation.Status.choices)


def form_errors_text(form: forms.Form) -> str:
    """Every error of a form in one line, for a page's notice."""
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


class LabelForm(forms.Form):
    """Add a label by name (checked by the labels service), or take one off by id."""

    label = forms.CharField(required=False, strip=True, max_length=200)
    remove = forms.IntegerField(required=False, min_value=1)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("remove") and not (data.get("label") or "").strip():
            raise forms.ValidationError("Type a label name.")
        return data


SNOOZE_PRESETS = [("hour", "1 hour"), ("tomorrow", "Tomorrow 9:00"), ("monday", "Next Monday")]


class SnoozeForm(forms.Form):
    """A preset, or a custom date and time in the agent's time zone (`tz`, from the
    browser); `wake=1` ends a snooze now."""

    preset = forms.ChoiceField(
        choices=SNOOZE_PRESETS,
        required=False,
        error_messages={"invalid_choice": "Unknown snooze choice."},
    )
    until = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": "Enter a date and time, such as 2026-05-04 09:30."},
    )
    tz = forms.CharField(required=False, max_length=64)
    wake = forms.BooleanField(required=False)
