"""Presence notes are written once a second per web process, all in one round trip, and a
poll in between answers from what the process last read and the notes it holds."""

import json
import time

import pytest
from django.core.cache import cache

from common import cache as common_cache
from inbox.services import presence
from inbox.services.presence import Viewer, conversation_presence_note


@pytest.fixture
def clock(monkeypatch):
    """The batches' clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(presence, "_clock", lambda: now[0])
    return now


@pytest.fixture
def round_trips(monkeypatch):
    """Each write: the conversations it carried."""
    calls = []
    write = common_cache.cache_hash_notes

    def counted(notes, timeout):
        calls.append(sorted(notes))
        return write(notes, timeout)

    monkeypatch.setattr(presence, "cache_hash_notes", counted)
    return calls


@pytest.fixture(autouse=True)
def notes_cleared():
    yield
    for pk in (1, 2, 3):
        cache.delete(f"inbox:presence:{pk}")


def note(pk, user_id, name, typing=False):
    return conversation_presence_note(conversation_id=pk, user_id=user_id, name=name, typing=typing)


def another_process_notes(pk, user_id, name, typing=False):
    """What a poll on another web process writes."""
    now = time.time()
    entry = json.dumps({"name": name, "seen": now, "typing": now if typing else 0})
    common_cache.cache_hash_notes({f"inbox:presence:{pk}": {str(user_id): entry}}, 20)


def test_a_conversation_the_process_has_not_read_is_written_and_read_at_once(clock, round_trips):
    another_process_notes(1, 7, "Bob")
    assert note(1, 5, "alice") == [Viewer(name="Bob", typing=False)]
    assert round_trips == [["inbox:presence:1"]]


def test_the_notes_of_a_second_go_out_together_in_one_round_trip(clock, round_trips):
    for pk in (1, 2, 3):
        note(pk, pk, f"agent {pk}")  # each read once
    assert len(round_trips) == 3
    clock[0] += 0.4
    for pk in (1, 2, 3):
        note(pk, pk, f"agent {pk}")
    assert len(round_trips) == 3  # nothing written within the second
    clock[0] += 0.6
    note(1, 1, "agent 1")
    assert round_trips[3:] == [["inbox:presence:1", "inbox:presence:2", "inbox:presence:3"]]
    # Another process's agents see them all.
    assert {viewer.name for viewer in _read_elsewhere(2)} == {"agent 2"}


def test_between_writes_a_poll_answers_from_the_last_read(clock, round_trips):
    note(1, 5, "alice")
    another_process_notes(1, 7, "Bob", typing=True)
    clock[0] += 0.5
    assert note(1, 5, "alice") == []  # read half a second ago, before Bob came
    clock[0] += 0.5
    assert note(1, 5, "alice") == [Viewer(name="Bob", typing=True)]
    assert len(round_trips) == 2


def test_colleagues_on_the_same_process_see_each_other_before_any_write(clock, round_trips):
    note(1, 5, "alice")
    assert note(1, 7, "Bob", typing=True) == [Viewer(name="alice", typing=False)]
    assert note(1, 5, "alice") == [Viewer(name="Bob", typing=True)]
    assert len(round_trips) == 1
    clock[0] += 1
    note(1, 5, "alice")
    assert {viewer.name for viewer in _read_elsewhere(1)} == {"alice", "Bob"}


def test_a_conversation_nobody_polls_is_forgotten(clock, round_trips):
    note(1, 5, "alice")
    clock[0] += presence.VIEWING_SECONDS + 1
    note(2, 5, "alice")
    assert set(presence._notes.read) == {2}


def _read_elsewhere(pk):
    """The conversation's viewers as a poll of agent 99 on another process finds them."""
    presence_before = (presence._notes.pending, presence._notes.read, presence._notes.written)
    presence._notes.pending, presence._notes.read = {}, {}
    try:
        return note(pk, 99, "someone else")
    finally:
        presence._notes.pending, presence._notes.read, presence._notes.written = presence_before
