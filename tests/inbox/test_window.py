from datetime import UTC, datetime, timedelta

import pytest

from inbox.services.window import WindowState, reply_window

LAST = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)


def window_at(delta: timedelta, human_agent: bool = True):
    return reply_window(
        last_customer_message_at=LAST, human_agent_enabled=human_agent, now=LAST + delta
    )


@pytest.mark.parametrize(
    ("delta", "state", "tag"),
    [
        (timedelta(0), WindowState.OPEN, ""),
        (timedelta(hours=23, minutes=59, seconds=59), WindowState.OPEN, ""),
        (timedelta(hours=24, seconds=1), WindowState.HUMAN_AGENT, "HUMAN_AGENT"),
        (
            timedelta(days=6, hours=23, minutes=59, seconds=59),
            WindowState.HUMAN_AGENT,
            "HUMAN_AGENT",
        ),
        (timedelta(days=7, seconds=1), WindowState.CLOSED, ""),
    ],
)
def test_it_applies_the_window_at_its_edges(delta, state, tag):
    window = window_at(delta)
    assert window.state == state
    assert window.tag == tag


def test_it_closes_after_24_hours_when_the_human_agent_switch_is_off():
    window = window_at(timedelta(hours=24, seconds=1), human_agent=False)
    assert window.state == WindowState.CLOSED
    assert "human agent tag is off" in window.reason
    assert "customer writes again" in window.reason


def test_it_is_closed_before_the_customer_ever_wrote():
    window = reply_window(last_customer_message_at=None, human_agent_enabled=True)
    assert not window.can_reply


def test_it_says_how_long_is_left():
    window = window_at(timedelta(hours=22))
    assert window.time_left(LAST + timedelta(hours=22)) == timedelta(hours=2)
