from __future__ import annotations

from typing import Any

from django import forms

from .selectors import agents_selectable


class AccountMembersForm(forms.Form):
    members = forms.ModelMultipleChoiceField(
        queryset=agents_selectable(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Admins see every account; pick the agents who work this inbox.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A fresh queryset per form: agents created since start-up are listed.
        self.fields["members"].queryset = agents_selectable()  # type: ignore[attr-defined]


class HumanAgentForm(forms.Form):
    enabled = forms.BooleanField(required=False)
