"""The report's filters: a date range (a preset or custom) and the conversations it covers.

`ReportScope` is what the selectors read. Its conversation filters (account, agent, label)
live in one place, `ReportScope.conversations_q`: a new filter is one field on the form and
one line there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import Label

MAX_DAYS = 366
PRESETS = {"today": 1, "7d": 7, "30d": 30}
RANGE_CHOICES = [
    ("today", "Today"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("custom", "Custom"),
]


@dataclass(frozen=True)
class ReportScope:
    since: date  # first day, in the report's time zone
    until: date  # last day, included
    tz: tzinfo
    account: InstagramAccount | None = None
    agent_id: int | None = None
    label: Label | None = None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time.min, tzinfo=self.tz)

    @property
    def end(self) -> datetime:
        """The first moment after the range (midnight after `until`, local time)."""
        return datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=self.tz)

    @property
    def days(self) -> list[date]:
        return [self.since + timedelta(days=n) for n in range((self.until - self.since).days + 1)]

    @property
    def by_account_only(self) -> bool:
        """No filter but the account: per-account totals answer."""
        return self.agent_id is None and self.label is None

    def conversations_q(self, path: str = "conversation__") -> Q:
        """Which conversations count: by account, by assigned agent, by a label they carry
        now. `path` leads from the queried model to its conversation."""
        q = Q()
        if self.account is not None:  # every model the reports read carries the account
            q &= Q(account_id=self.account.pk)
        if self.agent_id is not None:
            q &= Q(**{f"{path}assignee_id": self.agent_id})
        if self.label is not None:
            q &= Q(**{f"{path}labels": self.label.pk})
        return q

    def query_string(self, **dates: str) -> str:
        """The filters as a query string: these dates (the scope's by default)."""
        params = dates or {"since": self.since.isoformat(), "until": self.until.isoformat()}
        if self.account is not None:
            params["account"] = str(self.account.pk)
        if self.agent_id is not None:
            params["agent"] = str(self.agent_id)
        if self.label is not None:
            params["label"] = self.label.name
        return urlencode(params)


def report_agents() -> list[tuple[str, str]]:
    users = get_user_model()._default_manager.filter(is_active=True).order_by("username")
    return [("", "All agents")] + [
        (str(pk), name) for pk, name in users.values_list("pk", "username")
    ]


class ReportForm(forms.Form):
    # A preset (links on the page) wins over the dates; the form itself sends the dates.
    range = forms.ChoiceField(choices=RANGE_CHOICES, required=False)
    since = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    until = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    account = forms.ModelChoiceField(
        queryset=InstagramAccount.objects.order_by("username"),
        required=False,
        empty_label="All accounts",
    )
    agent = forms.TypedChoiceField(choices=(), coerce=int, required=False, empty_value=None)
    # By name, whatever its case (?label=VIP), as the inbox's list takes it.
    label = forms.CharField(required=False, max_length=100, widget=forms.Select)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["agent"].choices = report_agents()  # type: ignore[attr-defined]
        names = Label.objects.order_by("name").values_list("name", flat=True)
        self.fields["label"].widget.choices = [("", "All labels")] + [(n, n) for n in names]

    def clean_label(self) -> Label | None:
        name = self.cleaned_data.get("label") or ""
        if not name:
            return None
        label = Label.objects.filter(name__iexact=name).first()
        if label is None:
            raise forms.ValidationError("There is no label of that name.")
        return label

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        preset = data.get("range") or ""
        since, until = data.get("since"), data.get("until")
        if preset in PRESETS or (not preset and since is None and until is None):
            until = timezone.localdate()
            since = until - timedelta(days=PRESETS.get(preset, 7) - 1)
        elif since is None or until is None:
            if not self.has_error("since") and not self.has_error("until"):
                raise forms.ValidationError("A custom range needs both dates: since and until.")
            return data
        assert isinstance(since, date)
        assert isinstance(until, date)
        if until < since:
            raise forms.ValidationError(
                f"The range ends ({until:%Y-%m-%d}) before it starts ({since:%Y-%m-%d})."
            )
        if (until - since).days + 1 > MAX_DAYS:
            raise forms.ValidationError(
                f"A range covers at most {MAX_DAYS} days; this one has "
                f"{(until - since).days + 1}. Export a year at a time."
            )
        if since.year < 2000 or until.year > 9000:
            raise forms.ValidationError("Choose dates between the year 2000 and today.")
        data["since"], data["until"] = since, until
        return data

    def preset(self) -> str:
        """The preset the range came from ("" for custom dates)."""
        chosen = self.cleaned_data.get("range") or ""
        if chosen in PRESETS:
            return chosen
        return "7d" if not self.data.get("since") and not self.data.get("until") else ""

    def scope(self) -> ReportScope:
        data = self.cleaned_data
        return ReportScope(
            since=data["since"],
            until=data["until"],
            tz=timezone.get_current_timezone(),
            account=data.get("account"),
            agent_id=data.get("agent"),
            label=data.get("label"),
        )
