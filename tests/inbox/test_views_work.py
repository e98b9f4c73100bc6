"""Work management: assign, unassign, close, reopen; plain forms and htmx."""

import json
import re

import pytest

from inbox.models import Conversation
from inbox.services.work import WorkRefused, conversation_assign
from tests.factories import AccountFactory, ConversationFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def conversation(account):
    return ConversationFactory(account=account)


@pytest.fixture
def colleague(account):
    user = UserFactory(username="bob")
    account.members.add(user)
    return user


def test_an_agent_assigns_to_themselves(logged_in, agent, conversation):
    response = logged_in.post(
        f"/c/{conversation.pk}/assign/", {"assignee": agent.pk, "list_query": "box=mine"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/c/{conversation.pk}/?box=mine"
    conversation.refresh_from_db()
    assert conversation.assignee == agent
    page = logged_in.get(response["Location"]).content.decode()
    assert "Assigned to you." in page


def test_an_agent_assigns_to_a_colleague_and_unassigns(logged_in, colleague, conversation):
    logged_in.post(f"/c/{conversation.pk}/assign/", {"assignee": colleague.pk})
    conversation.refresh_from_db()
    assert conversation.assignee == colleague
    logged_in.post(f"/c/{conversation.pk}/assign/", {"assignee": ""})
    conversation.refresh_from_db()
    assert conversation.assignee is None


def test_it_refuses_an_assignee_who_cannot_see_the_account(logged_in, conversation):
    outsider = UserFactory(username="mallory")
    AccountFactory().members.add(outsider)
    response = logged_in.post(
        f"/c/{conversation.pk}/assign/", {"assignee": outsider.pk}, headers=HTMX
    )
    assert response.status_code == 422
    assert "cannot work this account" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.assignee is None


def test_it_refuses_an_unknown_assignee(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/assign/", {"assignee": 987654}, headers=HTMX)
    assert response.status_code == 422


def test_an_admin_can_be_assigned_anything(conversation, admin_user, agent):
    conversation_assign(conversation=conversation, assignee=admin_user, actor=agent)
    assert conversation.assignee == admin_user


def test_an_inactive_agent_cannot_be_assigned(conversation, colleague, agent):
    colleague.is_active = False
    colleague.save()
    with pytest.raises(WorkRefused):
        conversation_assign(conversation=conversation, assignee=colleague, actor=agent)


def test_the_assignee_picker_lists_members_and_admins_only(
    logged_in, colleague, admin_user, conversation
):
    outsider = UserFactory(username="mallory")
    html = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    assert f'value="{colleague.pk}"' in html
    assert f'value="{admin_user.pk}"' in html
    assert f'value="{outsider.pk}"' not in html


def test_close_and_reopen(logged_in, conversation):
    logged_in.post(f"/c/{conversation.pk}/status/", {"status": "closed"})
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED
    assert "Reopen" in logged_in.get(f"/c/{conversation.pk}/").content.decode()
    logged_in.post(f"/c/{conversation.pk}/status/", {"status": "open"})
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN


def test_a_bad_status_is_refused(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/status/", {"status": "deleted"}, headers=HTMX)
    assert response.status_code == 422


def test_htmx_actions_answer_204_and_ask_the_page_to_refresh(logged_in, conversation):
    conversation.status = Conversation.Status.CLOSED
    conversation.save()
    response = logged_in.post(f"/c/{conversation.pk}/status/", {"status": "open"}, headers=HTMX)
    assert response.status_code == 204
    assert "inbox:changed" in json.loads(response["HX-Trigger"])


def test_actions_need_post(logged_in, conversation):
    assert logged_in.get(f"/c/{conversation.pk}/status/").status_code == 405
    assert logged_in.get(f"/c/{conversation.pk}/assign/").status_code == 405


def test_a_change_shows_in_the_live_update(logged_in, conversation, colleague):
    import re

    html = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    version = re.search(r'data-v="([0-9a-f]+)" data-conversation', html).group(1)
    url = f"/c/{conversation.pk}/updates/"
    assert logged_in.get(url, {"v": version}).status_code == 204
    Conversation.objects.filter(pk=conversation.pk).update(assignee=colleague)
    assert logged_in.get(url, {"v": version}).status_code == 200


def test_the_assignee_menu_lists_who_may_take_it_the_agent_as_me(
    logged_in, agent, colleague, conversation
):
    UserFactory(
        username="carol", first_name="Carol", last_name="<b>King</b>"
    ).instagram_accounts.add(conversation.account)
    outsider = UserFactory(username="dan")
    conversation.assignee = colleague
    conversation.save()
    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    menu = page.split('<select name="assignee"', 1)[1].split("</select>", 1)[0]
    options = re.findall(r'<option value="(\d*)"( selected)?>([^<]*)</option>', menu)
    fsi, pdi = "\u2068", "\u2069"
    assert options == [
        ("", "", "Unassigned"),
        (str(agent.pk), "", f"Me ({fsi}alice{pdi})"),
        (str(colleague.pk), " selected", f"{fsi}bob{pdi}"),
        (options[3][0], "", f"{fsi}Carol &lt;b&gt;King&lt;/b&gt;{pdi}"),
    ]
    assert str(outsider.pk) not in {value for value, _, _ in options}
