"""The accounts page's forms: an account's members, and its human-agent switch."""

from __future__ import annotations

from typing import Any

from django import forms

from .models import InstagramAccount
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

    @classmethod
    def for_account(cls, account: InstagramAccount) -> AccountMembersForm:
        """The unbound form, ticked with the account's members."""
        return cls(initial={"members": account.members.all()})

    def member_ids(self) -> list[int]:
        """The ticked agents (once the form is valid)."""
        return [user.pk for user in self.cleaned_data["members"]]


class HumanAgentForm(forms.Form):
    enabled = forms.BooleanField(required=False)

    def enabled_value(self) -> bool:
        """The switch's new position: unticked (or absent) is off."""
        self.is_valid()  # a BooleanField that is not required is always valid
        return bool(self.cleaned_data.get("enabled"))
