"""Internal notes through the conversation page: plain forms and htmx, mentions, the
thread, and that nothing of a note ever goes to Meta."""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client

from inbox.models import Message
from instagram import client as graph
from team.models import ActivityEvent, Mention, Note
from tests.factories import AccountFactory, ConversationFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def no_graph(monkeypatch, fake_meta):
    """Any call to Meta, through the Graph client or at the HTTP layer, is recorded."""
    calls = []
    monkeypatch.setattr(graph.GraphClient, "request", lambda *a, **k: calls.append(a))
    yield calls
    assert not fake_meta.calls


def page(client, conversation, **params):
    response = client.get(f"/c/{conversation.pk}/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_has_a_plain_post_form_with_a_note_textarea(logged_in, conversation):
    html = page(logged_in, conversation)
    form = re.search(r'<form class="composer[^>]*>.*?</form>', html, re.S).group(0)
    assert 'method="post"' in form
    assert '<textarea name="note"' in form
    assert 'name="csrfmiddlewaretoken"' in form
    # The reply's textarea stays the first one of the form.
    assert form.index('<textarea name="text"') < form.index('<textarea name="note"')


def test_a_plain_note_is_stored_shown_as_internal_and_never_sent(
    logged_in, agent, conversation, no_graph
):
    response = logged_in.post(
        f"/c/{conversation.pk}/", {"note": "Customer is a VIP", "text": "", "mode": "reply"}
    )
    assert response.status_code == 302
    [note] = Note.objects.all()
    assert (note.text, note.author, note.conversation) == ("Customer is a VIP", agent, conversation)
    assert not Message.objects.exists()
    assert no_graph == []
    html = page(logged_in, conversation)
    assert "Note added." in html
    shown = re.search(r'<article class="internal-note".*?</article>', html, re.S).group(0)
    assert "Internal note" in shown
    assert "Customer is a VIP" in shown
    assert "alice" in shown


def test_the_switch_in_note_mode_makes_a_note_even_with_a_reply_draft(
    logged_in, conversation, no_graph
):
    response = logged_in.post(
        f"/c/{conversation.pk}/", {"note": "check the order", "text": "Hi!", "mode": "note"}
    )
    assert response.status_code == 302
    assert Note.objects.get().text == "check the order"
    assert not Message.objects.exists()


def test_an_htmx_note_answers_204_and_asks_for_a_refresh(logged_in, conversation, no_graph):
    response = logged_in.post(
        f"/c/{conversation.pk}/", {"note": "htmx note", "mode": "note"}, headers=HTMX
    )
    assert response.status_code == 204
    assert "inbox:changed" in json.loads(response["HX-Trigger"])
    assert Note.objects.get().text == "htmx note"


def test_a_note_is_written_even_when_replies_are_closed(logged_in, account, now, no_graph):
    old = ConversationFactory(account=account, last_customer_message_at=now - timedelta(days=9))
    html = page(logged_in, old)
    assert re.search(r'<textarea name="text"[^>]*disabled', html)
    assert not re.search(r'<textarea name="note"[^>]*disabled', html)
    logged_in.post(f"/c/{old.pk}/", {"note": "they never wrote", "mode": "note"})
    assert Note.objects.get().conversation == old


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "Write the note first: it is empty."),
        ("   \n ", "Write the note first: it is empty."),
        ("x" * 2001, "A note takes at most 2000 characters (this one has 2001)."),
        ("ask @nobody please", "Nobody who works this inbox is called @nobody."),
    ],
)
def test_a_bad_note_is_refused_with_a_clear_error_and_nothing_saved(
    logged_in, conversation, text, error
):
    response = logged_in.post(f"/c/{conversation.pk}/", {"note": text, "mode": "note"})
    assert response.status_code == 422
    assert error in response.content.decode()
    assert not Note.objects.exists()
    assert not Mention.objects.exists()
    assert not ActivityEvent.objects.exists()
    # The draft stays in the box, in note mode.
    assert 'id="mode-note" data-any-state checked' in response.content.decode()
    htmx = logged_in.post(f"/c/{conversation.pk}/", {"note": text, "mode": "note"}, headers=HTMX)
    assert htmx.status_code == 422
    assert error in htmx.content.decode()


def test_another_accounts_conversation_answers_404_to_a_note(logged_in, no_graph):
    elsewhere = ConversationFactory(account=AccountFactory())
    response = logged_in.post(f"/c/{elsewhere.pk}/", {"note": "sneaky", "mode": "note"})
    assert response.status_code == 404
    assert not Note.objects.exists()


def test_another_account_never_sees_a_note(client, logged_in, conversation):
    logged_in.post(f"/c/{conversation.pk}/", {"note": "secret plan", "mode": "note"})
    outsider = UserFactory(username="mallory")
    AccountFactory().members.add(outsider)
    client.force_login(outsider)
    assert client.get(f"/c/{conversation.pk}/").status_code == 404
    assert client.get(f"/c/{conversation.pk}/updates/").status_code == 404
    assert "secret plan" not in client.get("/mentions/").content.decode()


def test_a_mention_is_highlighted_and_reaches_the_mentioned_agent(
    client, logged_in, conversation, colleague
):
    logged_in.post(
        f"/c/{conversation.pk}/", {"note": "@bob can you check? <b>now</b>", "mode": "note"}
    )
    [mention] = Mention.objects.all()
    assert mention.user == colleague
    assert mention.read_at is None
    html = page(logged_in, conversation)
    assert '<mark class="mention">@bob</mark> can you check? &lt;b&gt;now&lt;/b&gt;' in html

    client.force_login(colleague)
    inbox = client.get("/").content.decode()
    assert re.search(r'class="mentions-count"[^>]*>1<', inbox)
    mentions = client.get("/mentions/").content.decode()
    assert "1 unread" in mentions
    assert f'href="/c/{conversation.pk}/#n-{Note.objects.get().pk}"' in mentions
    # Opening the conversation reads it.
    page(client, conversation)
    mention.refresh_from_db()
    assert mention.read_at is not None
    assert 'class="mentions-count"' not in client.get("/").content.decode()


def test_the_list_poll_carries_the_count_of_unread_mentions(logged_in, conversation, colleague):
    """A teammate's note, a mention read in another tab, all read on the Mentions page: each
    moves the agent's list version, and the poll that renders says the new count."""
    client = Client()
    client.force_login(colleague)

    def rows_poll(version):
        return client.get("/", {"fragment": "rows", "v": version}, HTTP_X_INBOX_POLL="1")

    first = rows_poll("")
    assert first["X-Inbox-Mentions"] == "0"
    version = first["X-Inbox-Version"]
    assert rows_poll(version).status_code == 204

    logged_in.post(f"/c/{conversation.pk}/", {"note": "@bob a refund?", "mode": "note"})
    noted = rows_poll(version)
    assert (noted.status_code, noted["X-Inbox-Mentions"]) == (200, "1")

    other = ConversationFactory(account=conversation.account)
    logged_in.post(f"/c/{other.pk}/", {"note": "@bob and here", "mode": "note"})
    version = rows_poll(noted["X-Inbox-Version"])["X-Inbox-Version"]
    page(client, conversation)  # another tab opens one: its mention is read
    read = rows_poll(version)
    assert (read.status_code, read["X-Inbox-Mentions"]) == (200, "1")

    client.post("/mentions/read/")  # the rest, on the Mentions page
    done = rows_poll(read["X-Inbox-Version"])
    assert (done.status_code, done["X-Inbox-Mentions"]) == (200, "0")
    assert rows_poll(done["X-Inbox-Version"]).status_code == 204


def test_mentions_are_matched_without_case_and_ignore_addresses(logged_in, conversation, colleague):
    logged_in.post(
        f"/c/{conversation.pk}/",
        {"note": "@BOB. mail ops@example.com and @alice", "mode": "note"},
    )
    # The author is not told about their own note; an e-mail address is no mention.
    assert [m.user for m in Mention.objects.all()] == [colleague]


def test_an_admin_can_be_mentioned_on_any_account(logged_in, conversation, admin_user):
    logged_in.post(f"/c/{conversation.pk}/", {"note": "@root please look", "mode": "note"})
    assert Mention.objects.get().user == admin_user


def test_mark_all_read(client, logged_in, conversation, colleague):
    logged_in.post(f"/c/{conversation.pk}/", {"note": "@bob one", "mode": "note"})
    logged_in.post(f"/c/{conversation.pk}/", {"note": "@bob two", "mode": "note"})
    client.force_login(colleague)
    assert client.post("/mentions/read/").status_code == 302
    assert not Mention.objects.filter(read_at__isnull=True).exists()
    assert "Nobody has mentioned you yet" not in client.get("/mentions/").content.decode()


def test_notes_and_messages_are_interleaved_by_time(logged_in, conversation, now, time_machine):
    MessageFactory(conversation=conversation, text="first message", timestamp=now - timedelta(2))
    time_machine.move_to(now - timedelta(days=1))
    logged_in.post(f"/c/{conversation.pk}/", {"note": "a note between", "mode": "note"})
    time_machine.move_to(now)
    MessageFactory(conversation=conversation, text="last message", timestamp=now)
    html = page(logged_in, conversation)
    assert html.index("first message") < html.index("a note between") < html.index("last message")


def test_a_new_note_changes_the_thread_version_for_open_pages(logged_in, conversation):
    first = logged_in.get(f"/c/{conversation.pk}/updates/", {"v": "x"})
    version = re.search(r'class="thread-update" data-v="([^"]+)"', first.content.decode())[1]
    assert logged_in.get(f"/c/{conversation.pk}/updates/", {"v": version}).status_code == 204
    logged_in.post(f"/c/{conversation.pk}/", {"note": "live note", "mode": "note"})
    update = logged_in.get(f"/c/{conversation.pk}/updates/", {"v": version})
    assert update.status_code == 200
    assert "live note" in update.content.decode()


def test_each_page_of_a_long_thread_shows_the_notes_of_its_own_span(
    logged_in, agent, conversation, now, time_machine
):
    from inbox.selectors import THREAD_PAGE_SIZE
    from team.services import note_create

    start = now - timedelta(days=3)
    time_machine.move_to(start - timedelta(minutes=1))
    note_create(conversation=conversation, author=agent, text="an early note")
    for i in range(THREAD_PAGE_SIZE + 5):
        MessageFactory(
            conversation=conversation, text=f"n{i:04d}", timestamp=start + timedelta(minutes=i)
        )
    time_machine.move_to(now)
    note_create(conversation=conversation, author=agent, text="a late note")
    newest = page(logged_in, conversation)
    assert "a late note" in newest
    assert "an early note" not in newest
    earlier = re.search(r'href="\?before=(\d+)"', newest).group(1)
    older = page(logged_in, conversation, before=earlier)
    assert "an early note" in older
    assert "a late note" not in older
    assert older.index("an early note") < older.index("n0000")


def test_a_submission_with_both_modes_goes_by_what_was_written(logged_in, conversation, meta):
    """A form filled in by a script may carry every radio: the boxes' contents decide."""
    from tests.inbox.outbound.sendkit import answer_ok

    answer_ok(meta, conversation.account)
    url = f"/c/{conversation.pk}/"
    logged_in.post(url, {"text": "a reply", "note": "", "mode": ["reply", "note"]})
    assert Message.objects.get(direction="out").text == "a reply"
    logged_in.post(url, {"text": "", "note": "a note", "mode": ["reply", "note"]})
    assert Note.objects.get().text == "a note"
