"""An edited message as agents and managers see it: marked, earlier versions on demand."""

import pytest

from tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

EARLIER = [
    {"text": "Is the <b>jacket</b> here?", "edit": 0, "replaced_at": "2025-10-09T08:53:21+00:00"},
    {"text": "Is the jacket in M?", "edit": 1, "replaced_at": "2025-10-09T08:54:00+00:00"},
]


@pytest.fixture
def conversation(account):
    return ConversationFactory(account=account)


def thread(client, user, conversation):
    client.force_login(user)
    response = client.get(f"/c/{conversation.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_an_edited_message_shows_its_earlier_versions_on_demand(client, agent, conversation):
    MessageFactory(
        conversation=conversation, text="Is the jacket in L?", edit_count=2, earlier_texts=EARLIER
    )
    html = thread(client, agent, conversation)
    assert "<summary>Edited · show earlier versions</summary>" in html
    newest_first = html.index("Is the jacket in M?") < html.index("Is the &lt;b&gt;jacket")
    assert newest_first
    assert "<b>jacket</b>" not in html  # inbound text is escaped, earlier versions too
    assert "not loaded yet" not in html


def test_an_edit_whose_text_is_still_being_read_says_so(client, agent, conversation):
    MessageFactory(conversation=conversation, text="first words", edit_count=1, text_edit_count=0)
    html = thread(client, agent, conversation)
    assert "first words" in html
    assert "Edited on Instagram · new text not loaded yet" in html
    assert "show earlier versions" not in html


def test_an_unsent_message_shows_no_earlier_versions(client, agent, conversation):
    MessageFactory(
        conversation=conversation, text="", is_deleted=True, edit_count=2, earlier_texts=EARLIER
    )
    html = thread(client, agent, conversation)
    assert "The customer unsent this message" in html
    assert "jacket" not in html


def test_managers_read_the_edit_history_in_admin(client, manager, conversation):
    message = MessageFactory(
        conversation=conversation, text="Is the jacket in L?", edit_count=2, earlier_texts=EARLIER
    )
    client.force_login(manager)
    page = client.get(f"/admin/inbox/message/{message.pk}/change/").content.decode()
    assert "Earlier versions (newest first)" in page
    assert page.index("Is the jacket in M?") < page.index("Is the &lt;b&gt;jacket&lt;/b&gt; here?")
    assert "edit 1, replaced 2025-10-09T08:54:00+00:00" in page
    assert "original, replaced" in page
