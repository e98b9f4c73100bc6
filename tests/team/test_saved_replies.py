"""Saved replies: admins write them (1000 bytes at most), managers only look, agents insert
one with its placeholders filled from the customer; plain links do it without JavaScript."""

import re

import pytest

from team.models import SavedReply
from tests.factories import AccountFactory
from tests.inbox.outbound.sendkit import answer_ok, bodies

pytestmark = pytest.mark.django_db

ADD = "/admin/team/savedreply/add/"


def reply_box(html):
    return re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', html, re.S).group(1)


def test_an_admin_adds_a_saved_reply_in_admin(client, admin_user, account):
    client.force_login(admin_user)
    response = client.post(
        ADD,
        {"title": "Thanks", "shortcut": "thanks", "account": "", "text": "Thanks {first_name}!"},
    )
    assert response.status_code == 302
    saved = SavedReply.objects.get()
    assert (saved.shortcut, saved.account, saved.text) == ("thanks", None, "Thanks {first_name}!")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"text": "é" * 501}, "This text is 1,002 bytes; Instagram accepts at most 1,000"),
        ({"text": "   "}, "This field is required."),
        ({"title": "  "}, "This field is required."),
        ({"shortcut": "two words"}, "Enter a valid “slug”"),
    ],
)
def test_a_bad_saved_reply_is_refused_with_a_clear_error(client, admin_user, fields, error):
    client.force_login(admin_user)
    data = {"title": "Hello", "shortcut": "hello", "account": "", "text": "Hi!", **fields}
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not SavedReply.objects.exists()


def test_a_shortcut_is_unique_among_replies_for_every_account(client, admin_user):
    SavedReply.objects.create(title="A", shortcut="hello", text="Hi")
    client.force_login(admin_user)
    response = client.post(ADD, {"title": "B", "shortcut": "hello", "account": "", "text": "Yo"})
    assert "A saved reply for every account has this shortcut." in response.content.decode()
    assert SavedReply.objects.count() == 1


def test_a_manager_sees_saved_replies_and_changes_nothing(client, manager):
    saved = SavedReply.objects.create(title="A", shortcut="hello", text="Hi")
    client.force_login(manager)
    assert client.get("/admin/team/savedreply/").status_code == 200
    assert client.get(ADD).status_code == 403
    change = f"/admin/team/savedreply/{saved.pk}/change/"
    assert client.post(change, {"title": "B", "shortcut": "b", "text": "x"}).status_code == 403
    assert client.get(f"/admin/team/savedreply/{saved.pk}/delete/").status_code == 403
    saved.refresh_from_db()
    assert saved.title == "A"


def test_the_page_lists_the_accounts_saved_replies_with_placeholders_filled(
    logged_in, conversation
):
    SavedReply.objects.create(
        title="Greeting", shortcut="hi", text="Hi {first_name} (@{username}), I'm {agent_name}."
    )
    SavedReply.objects.create(
        account=conversation.account, title="Ship", shortcut="ship", text="{unknown} ships"
    )
    SavedReply.objects.create(
        account=AccountFactory(), title="Elsewhere", shortcut="other", text="not here"
    )
    html = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    assert 'data-text="Hi Zoë (@zoe.m), I&#x27;m alice."' in html
    assert 'data-text="{unknown} ships"' in html
    assert "not here" not in html
    assert reply_box(html) == ""


def test_without_javascript_a_saved_reply_link_puts_it_in_the_box(logged_in, conversation):
    saved = SavedReply.objects.create(title="Greeting", shortcut="hi", text="Hi {first_name}!")
    elsewhere = SavedReply.objects.create(
        account=AccountFactory(), title="Other", shortcut="other", text="secret"
    )
    html = logged_in.get(f"/c/{conversation.pk}/", {"box": "mine"}).content.decode()
    link = f'href="?box=mine&amp;saved={saved.pk}#reply-text"'
    assert link in html
    html = logged_in.get(f"/c/{conversation.pk}/", {"saved": saved.pk}).content.decode()
    assert reply_box(html) == "Hi Zoë!"
    # Another account's saved reply is nobody's business here.
    html = logged_in.get(f"/c/{conversation.pk}/", {"saved": elsewhere.pk}).content.decode()
    assert reply_box(html) == ""
    # The pick is this request's: the list's links do not carry it on.
    assert f"saved={saved.pk}" not in re.search(r'class="back"[^>]*', html).group(0)


def test_a_filled_saved_reply_still_obeys_the_byte_limit(logged_in, conversation, meta):
    answer_ok(meta, conversation.account)
    text = "x" * 995 + " {name}"
    SavedReply.objects.create(title="Long", shortcut="long", text=text)
    filled = "x" * 995 + " Zoë Martin"
    response = logged_in.post(f"/c/{conversation.pk}/", {"text": filled})
    assert response.status_code == 422
    assert "1,007 bytes; Instagram accepts at most 1,000" in response.content.decode()
    assert bodies(meta) == []


def test_a_shortcut_is_unique_within_an_account(client, admin_user, account):
    SavedReply.objects.create(account=account, title="A", shortcut="hello", text="Hi")
    client.force_login(admin_user)
    data = {"title": "B", "shortcut": "hello", "account": account.pk, "text": "Yo"}
    response = client.post(ADD, data)
    assert "This account has a saved reply with this shortcut." in response.content.decode()
    # The same shortcut for another account, or for every account, is another reply.
    assert client.post(ADD, {**data, "account": ""}).status_code == 302
    assert client.post(ADD, {**data, "account": AccountFactory().pk}).status_code == 302
    assert SavedReply.objects.count() == 3


def test_admins_find_where_to_manage_saved_replies_from_the_box(
    client, admin_user, logged_in, conversation
):
    assert "Manage saved replies" not in logged_in.get(f"/c/{conversation.pk}/").content.decode()
    client.force_login(admin_user)
    html = client.get(f"/c/{conversation.pk}/").content.decode()
    assert 'href="/admin/team/savedreply/"' in html
    assert "No saved replies yet." in html
