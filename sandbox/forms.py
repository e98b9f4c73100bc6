"""Forms of the customer simulator: they parse and validate; the sandbox services act."""

from __future__ import annotations

from typing import Any

from django import forms

from .models import SandboxFault


class CustomerForm(forms.Form):
    name = forms.CharField(max_length=100, required=False)
    username = forms.RegexField(
        regex=r"^[A-Za-z0-9._]{1,30}$",
        required=False,
        error_messages={"invalid": "Letters, digits, dots and underscores, up to 30."},
    )


class MessageForm(forms.Form):
    text = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)
    image_url = forms.URLField(required=False, assume_scheme="https", max_length=2000)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("text", "").strip() and not data.get("image_url"):
            raise forms.ValidationError("Type a message or paste an image URL.")
        return data


class FaultForm(forms.Form):
    kind = forms.ChoiceField(choices=SandboxFault.Kind.choices)
    count = forms.IntegerField(min_value=1, max_value=20, initial=1)


class AgeForm(forms.Form):
    hours = forms.IntegerField(min_value=1, max_value=24 * 30, initial=25)
