"""What the report page shows: the figures in words and numbers, and the charts' data
(passed to the page's script with `json_script`, never inline script)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reports.forms import ReportScope
from reports.selectors import (
    AgentRow,
    Times,
    Volume,
    Window,
    report_agents,
    report_episodes,
    report_volume,
)
from reports.text import duration


@dataclass
class Report:
    scope: ReportScope
    times: Times
    window: Window
    volume: Volume
    agents: list[AgentRow]

    @property
    def charts(self) -> dict[str, Any]:
        """The data each chart draws: the same numbers as the tables beside them."""
        return {
            "response": {
                "labels": [label for label, _ in self.times.distribution],
                "values": [count for _, count in self.times.distribution],
            },
            "window": {
                "labels": [label for _, label, _ in self.window.rows],
                "keys": [key for key, _, _ in self.window.rows],
                "values": [count for _, _, count in self.window.rows],
            },
            "volume": {
                "labels": [day.isoformat() for day, *_ in self.volume.days],
                "opened": [row[1] for row in self.volume.days],
                "inbound": [row[2] for row in self.volume.days],
                "outbound": [row[3] for row in self.volume.days],
            },
        }

    @property
    def heat_rows(self) -> list[tuple[str, list[tuple[int, int]]]]:
        """(weekday, [(count, level 0-5)]) for the heat map's cells (CSS classes)."""
        top = self.volume.heat_max or 1
        return [
            (
                day,
                [(count, 0 if not count else 1 + min(4, 5 * count // (top + 1))) for count in row],
            )
            for day, row in self.volume.heat
        ]

    @property
    def response_summary(self) -> dict[str, str]:
        return {
            "p50": duration(self.times.response_p50),
            "p90": duration(self.times.response_p90),
            "resolution_p50": duration(self.times.resolution_p50),
            "resolution_p90": duration(self.times.resolution_p90),
        }


def report_present(*, scope: ReportScope, now: datetime) -> Report:
    times, window = report_episodes(scope, now=now)
    return Report(
        scope=scope,
        times=times,
        window=window,
        volume=report_volume(scope),
        agents=report_agents(scope),
    )
