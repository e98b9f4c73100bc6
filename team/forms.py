"""Forms of team work: they parse and validate; the services decide."""

from __future__ import annotations

from django import forms
from django.http import QueryDict

from .models import NOTE_MAX_CHARS, SAVED_REPLY_MAX_BYTES, SavedReply


def note_requested(data: QueryDict) -> bool:
    """Whether the reply box's submission is a note: its switch says so, or only the note
    has something in it (a plain form that filled in just the note)."""
    if data.getlist("mode") == ["note"]:  # a browser sends one; several say nothing
        return True
    if not data.get("note", "").strip():
        return False
    return not any(data.get(name, "").strip() for name in ("text", "attachment_url", "sticker"))


class NoteForm(forms.Form):
    note = forms.CharField(
        required=False,  # an empty note gets the service's own words
        strip=False,
        widget=forms.Textarea,
        max_length=NOTE_MAX_CHARS,
        error_messages={
            "max_length": "A note takes at most %(limit_value)d characters "
            "(this one has %(show_value)d)."
        },
    )

    def clean_note(self) -> str:
        # Browsers submit line breaks as CRLF; leading and trailing blank space is noise.
        return str(self.cleaned_data.get("note") or "").replace("\r\n", "\n").strip()


class SavedReplyForm(forms.ModelForm):
    """Admins' form: the text obeys Instagram's 1000-byte limit, as any reply."""

    class Meta:
        model = SavedReply
        fields = ["title", "shortcut", "account", "text"]

    def clean_text(self) -> str:
        text = str(self.cleaned_data.get("text") or "").replace("\r\n", "\n")
        if not text.strip():
            raise forms.ValidationError("Write the reply's text.")
        size = len(text.encode())
        if size > SAVED_REPLY_MAX_BYTES:
            raise forms.ValidationError(
                f"This text is {size:,} bytes; Instagram accepts at most "
                f"{SAVED_REPLY_MAX_BYTES:,} (placeholders filled in can make it longer)."
            )
        return text

    def clean_title(self) -> str:
        title = str(self.cleaned_data.get("title") or "").strip()
        if not title:
            raise forms.ValidationError("Give the reply a title.")
        return title
