"""A thread poll that is behind renders only what changed since the render its page holds
(inbox/services/live_held.py, inbox/presenters_live.py); when what the page holds is not
known, everything, as before."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from inbox.models import Message, Reaction
from inbox.services import live_held, work
from inbox.services.live_held import Held, held_let_go, held_lookup, held_record
from team.services import note_create
from tests.factories import (
    ConversationFactory,
    MessageFactory,
    OutboundMessageFactory,
    UserFactory,
    conversations_listed,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(account):
    return ConversationFactory(
        account=account,
        customer_name="Jane Doe",
        last_customer_message_at=timezone.now() - timedelta(hours=1),
    )


@pytest.fixture
def three(conversation):
    """A thread of three messages, oldest first."""
    now = timezone.now()
    return [
        MessageFactory(
            conversation=conversation, text=text, timestamp=now - timedelta(minutes=30 - i)
        )
        for i, text in enumerate(["first words", "second words", "third words"])
    ]


def page_holds(client, conversation):
    """The page's version and the key of what it holds, as inbox.js reads them."""
    html = client.get(f"/c/{conversation.pk}/").content.decode()
    found = re.search(r'data-v="([0-9a-f]+)" data-conversation="\d+" data-r="([0-9a-f]*)"', html)
    return found[1], found[2]


def poll(client, conversation, version, key=""):
    params = {"v": version, **({"r": key} if key else {})}
    return client.get(f"/c/{conversation.pk}/updates/", params)


def update_holds(response):
    found = re.search(
        r'class="thread-update" data-v="([0-9a-f]+)" data-r="([0-9a-f]*)"',
        response.content.decode(),
    )
    return found[1], found[2]


# --- the map ---------------------------------------------------------------------------------


def test_it_keeps_a_map_under_its_own_digest():
    held = Held(parts={"header": "a1"}, items={"m-1": "v1", "n-2": "2"})
    key = held_record(held=held)
    assert key == held.key()
    assert held_lookup(key=key) == held
    # The same content has the same key, whichever render kept it.
    same = Held(parts={"header": "a1"}, items={"n-2": "2", "m-1": "v1"})
    assert held_record(held=same) == key


def test_a_key_not_kept_or_not_a_key_finds_nothing():
    assert held_lookup(key="0" * live_held.KEY_CHARS) is None
    assert held_lookup(key="not-a-key") is None
    assert held_lookup(key="") is None


def test_what_is_stored_under_a_key_must_be_what_the_key_names():
    key = held_record(held=Held(parts={"header": "a1"}))
    cache.set("inbox:held:" + key, '{"p": {"header": "other"}, "i": {}}')
    assert held_lookup(key=key) is None


class Down:
    def get(self, *args, **kwargs):
        raise ConnectionError("redis down")

    set = touch = get


def test_the_cache_down_keeps_nothing_and_finds_nothing(monkeypatch):
    held = Held(parts={"header": "a1"})
    monkeypatch.setattr(live_held, "cache", Down())
    assert held_record(held=held) == held.key()  # the page still carries a key
    assert held_lookup(key=held.key()) is None
    held_let_go(key=held.key())


def test_the_map_is_what_the_page_shows(logged_in, agent, conversation, three):
    """Each part's and item's data-v on the page, as the map computed without rendering has
    them (a quoting reply, a note and an activity line included)."""
    OutboundMessageFactory(conversation=conversation, reply_to_mid=three[0].mid, text="yes")
    Reaction.objects.create(message=three[1], actor="customer", reaction="love", emoji="❤️")
    note_create(conversation=conversation, author=agent, text="a note")
    work.conversation_assign(conversation=conversation, assignee=agent, actor=agent)
    html = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    _, key = page_holds(logged_in, conversation)
    held = held_lookup(key=key)
    shown_items = dict(re.findall(r'id="([mna]-\d+)" data-v="([^"]+)"', html))
    shown_parts = dict(re.findall(r'data-part="([a-z-]+)" data-v="([^"]+)"', html))
    assert shown_items == held.items
    assert len(shown_items) == 6  # 4 messages, the note, the assignment's line
    assert shown_parts == held.parts
    assert set(shown_parts) == {"header", "tools", "composer-state", "panel"}


def test_a_quoted_message_unsent_changes_the_reply_that_quotes_it(logged_in, conversation, three):
    reply = OutboundMessageFactory(conversation=conversation, reply_to_mid=three[0].mid)
    version, key = page_holds(logged_in, conversation)
    Message.objects.filter(pk=three[0].pk).update(is_deleted=True)
    Message.objects.get(pk=three[0].pk).save()
    html = poll(logged_in, conversation, version, key).content.decode()
    assert f'<article class="msg msg-out" id="m-{reply.pk}"' in html
    assert "Unsent message" in html


# --- the poll --------------------------------------------------------------------------------


def test_a_poll_behind_by_one_message_renders_that_message_only(logged_in, conversation, three):
    version, key = page_holds(logged_in, conversation)
    new = MessageFactory(conversation=conversation, text="fourth words")
    response = poll(logged_in, conversation, version, key)
    assert response.status_code == 200
    html = response.content.decode()
    assert "fourth words" in html
    assert f'id="m-{new.pk}"' in html
    for old in three:
        assert old.text not in html
        assert f'<i id="m-{old.pk}" data-keep hidden></i>' in html  # its place, in order
    assert html.index(f'id="m-{three[2].pk}"') < html.index(f'id="m-{new.pk}"')
    # The parts that did not change stay out.
    assert "data-part=" not in html
    # The new version works as before: the next poll with it answers 204.
    new_version, new_key = update_holds(response)
    assert new_version != version
    assert poll(logged_in, conversation, new_version, new_key).status_code == 204


def test_a_colleague_holding_the_same_map_still_renders_only_what_changed(
    logged_in, conversation, three, account
):
    """Two agents on the same conversation hold the same map. The first to poll moves on
    from it; the second still finds it at their next poll and gets the new message alone."""
    colleague = UserFactory(username="bob")
    account.members.add(colleague)
    other = Client()
    other.force_login(colleague)
    version, key = page_holds(logged_in, conversation)
    other_version, other_key = page_holds(other, conversation)
    assert other_key == key
    new = MessageFactory(conversation=conversation, text="fourth words")
    first = poll(logged_in, conversation, version, key).content.decode()
    second = poll(other, conversation, other_version, other_key).content.decode()
    cache.delete(f"inbox:presence:{conversation.pk}")  # Bob's viewing, for later tests
    for html in (first, second):
        assert f'id="m-{new.pk}"' in html
        assert "first words" not in html
        assert f'<i id="m-{three[0].pk}" data-keep hidden></i>' in html


def test_a_map_let_go_lasts_a_hidden_tabs_two_polls_not_its_full_age(monkeypatch):
    touched = []
    monkeypatch.setattr(cache, "touch", lambda key, timeout: touched.append((key, timeout)))
    key = held_record(held=Held(parts={"header": "a1"}))
    held_let_go(key=key)
    assert touched == [("inbox:held:" + key, live_held.HELD_GRACE_SECONDS)]
    assert 15 * 2 <= live_held.HELD_GRACE_SECONDS < live_held.HELD_MAX_AGE
    assert held_lookup(key=key) is not None


def test_a_partial_update_names_what_a_full_one_would(logged_in, conversation, three):
    """After the merge the page holds what a full render holds: the same key."""
    version, key = page_holds(logged_in, conversation)
    MessageFactory(conversation=conversation, text="fourth words")
    partial = poll(logged_in, conversation, version, key)
    full = poll(logged_in, conversation, version)
    assert "first words" in full.content.decode()
    # The same stamp and map (the version's expiry second may tick between the two polls).
    (partial_version, partial_key), (full_version, full_key) = (
        update_holds(partial),
        update_holds(full),
    )
    assert (partial_version[:16], partial_key) == (full_version[:16], full_key)


def test_an_edit_or_a_reaction_renders_that_message_only(logged_in, conversation, three):
    version, key = page_holds(logged_in, conversation)
    Reaction.objects.create(message=three[0], actor="customer", reaction="love", emoji="❤️")
    html = poll(logged_in, conversation, version, key).content.decode()
    assert "first words" in html
    assert "Customer reacted" in html
    assert "second words" not in html
    assert "third words" not in html

    version, key = update_holds(poll(logged_in, conversation, version, key))
    Message.objects.filter(pk=three[1].pk).update(text="second words, edited", edit_count=1)
    Message.objects.get(pk=three[1].pk).save()  # the edit's write path touches the stamps
    html = poll(logged_in, conversation, version, key).content.decode()
    assert "second words, edited" in html
    assert "first words" not in html
    assert "third words" not in html


def test_a_status_change_renders_the_parts_that_show_it(logged_in, agent, conversation, three):
    version, key = page_holds(logged_in, conversation)
    work.conversation_close(conversation=conversation, actor=agent)
    html = poll(logged_in, conversation, version, key).content.decode()
    assert 'data-part="header"' in html
    assert "Reopen" in html
    assert 'data-part="panel"' in html
    assert "first words" not in html  # the messages did not change
    assert "resolved this" in html  # the new activity line
    assert f"r={key}" not in html  # links and forms keep the list's filters, not the poll's key


def test_a_new_note_lands_in_its_place(logged_in, agent, conversation, three):
    version, key = page_holds(logged_in, conversation)
    note = note_create(conversation=conversation, author=agent, text="call her back")
    html = poll(logged_in, conversation, version, key).content.decode()
    assert "call her back" in html
    assert f'id="n-{note.pk}"' in html
    assert "third words" not in html


@pytest.mark.parametrize("key", ["", "0" * 32, "garbage"])
def test_a_poll_that_does_not_say_what_its_page_holds_gets_everything(
    logged_in, conversation, three, key
):
    version, _ = page_holds(logged_in, conversation)
    MessageFactory(conversation=conversation, text="fourth words")
    html = poll(logged_in, conversation, version, key).content.decode()
    assert all(m.text in html for m in three)
    assert "fourth words" in html
    assert "data-keep" not in html
    assert 'data-part="header"' in html


def test_with_the_cache_down_a_poll_gets_everything(logged_in, conversation, three, monkeypatch):
    version, key = page_holds(logged_in, conversation)
    MessageFactory(conversation=conversation, text="fourth words")
    monkeypatch.setattr(live_held, "cache", Down())
    response = poll(logged_in, conversation, version, key)
    assert response.status_code == 200
    html = response.content.decode()
    assert all(m.text in html for m in three)
    assert "fourth words" in html


def test_a_failed_reply_shows_its_new_state(logged_in, conversation, three):
    reply = OutboundMessageFactory(conversation=conversation, status=Message.Status.SENDING)
    version, key = page_holds(logged_in, conversation)
    reply.status = Message.Status.FAILED
    reply.error_reason = "Outside the window"
    reply.save()
    html = poll(logged_in, conversation, version, key).content.decode()
    assert "Outside the window" in html
    assert f'id="m-{reply.pk}"' in html
    assert "first words" not in html


# --- the list --------------------------------------------------------------------------------


@pytest.fixture
def rows(account):
    """Three conversations, the newest first in the list."""
    return conversations_listed(account)


def list_holds(client):
    response = client.get("/", {"fragment": "rows"})
    key = re.search(r'<ul class="rows" role="list" data-r="([0-9a-f]*)"', response.content.decode())
    return response["X-Inbox-Version"], key[1]


def list_poll(client, version, key=""):
    return client.get("/", {"fragment": "rows", "v": version, **({"r": key} if key else {})})


def test_a_list_poll_sends_only_the_rows_that_changed(logged_in, rows):
    version, key = list_holds(logged_in)
    ben = rows[1]
    ben.last_message_preview = "Ben has a question"
    ben.save()
    response = list_poll(logged_in, version, key)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ben has a question" in html
    assert f'<li data-id="{rows[0].pk}" data-keep></li>' in html
    assert f'<li data-id="{rows[2].pk}" data-keep></li>' in html
    assert "Ann wrote" not in html
    assert "Cat wrote" not in html
    # In the list's order, and with the version and the unread count as before.
    assert html.index(f'data-id="{rows[0].pk}"') < html.index(f'data-id="{ben.pk}"')
    assert response["X-Inbox-Version"] != version
    assert response["X-Inbox-Unread"] == list_poll(logged_in, version)["X-Inbox-Unread"]
    # What the page holds after the merge is what a full answer holds.
    full = list_poll(logged_in, version).content.decode()
    assert "Ann wrote" in full
    assert (
        re.search(r'data-r="([0-9a-f]*)"', html)[1] == re.search(r'data-r="([0-9a-f]*)"', full)[1]
    )


def test_a_row_that_moves_up_is_sent_and_the_others_kept(logged_in, rows):
    version, key = list_holds(logged_in)
    cat = rows[2]
    cat.last_message_at = timezone.now()
    cat.last_message_preview = "Cat again"
    cat.save()
    html = list_poll(logged_in, version, key).content.decode()
    assert html.index("Cat again") < html.index(f'<li data-id="{rows[0].pk}" data-keep>')


@pytest.mark.parametrize("key", ["", "0" * 32])
def test_a_list_poll_that_does_not_say_what_its_page_holds_gets_every_row(logged_in, rows, key):
    version, _ = list_holds(logged_in)
    rows[1].last_message_preview = "Ben has a question"
    rows[1].save()
    html = list_poll(logged_in, version, key).content.decode()
    assert "data-keep" not in html
    assert all(f"{name} wrote" in html for name in ("Ann", "Cat"))


def test_the_list_page_renders_every_row_whatever_its_query(logged_in, rows):
    _, key = list_holds(logged_in)
    html = logged_in.get("/", {"r": key}).content.decode()
    assert "data-keep" not in html
    assert "Ann wrote" in html
