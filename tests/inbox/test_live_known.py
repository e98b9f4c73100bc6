"""An unchanged live poll is answered before Django loads the session or the user, from a
login this process has seen Django authenticate, proven in the poll's one statement
(common/known_sessions.py). Whatever the proof cannot vouch for goes through Django's own
login check: a logged-out, expired, changed or deactivated login never gets the fast 204."""

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.known_sessions import known_session_note, known_sessions_clear
from inbox.models import Message
from tests.factories import AccountFactory, ConversationFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(account):
    conversation = ConversationFactory(
        account=account, last_customer_message_at=timezone.now() - timedelta(hours=1)
    )
    MessageFactory.create_batch(3, conversation=conversation)
    return conversation


def list_version(client):
    response = client.get("/", {"fragment": "rows"}, headers={"X-Inbox-Poll": "1"})
    assert response.status_code == 200
    return response["X-Inbox-Version"]


def list_poll(client, version):
    return client.get("/", {"fragment": "rows", "v": version}, headers={"X-Inbox-Poll": "1"})


def thread_version(client, conversation):
    response = client.get(f"/c/{conversation.pk}/updates/")
    assert response.status_code == 200
    return re.search(r'class="thread-update" data-v="([0-9a-f]+)"', response.content.decode())[1]


def thread_poll(client, conversation, version):
    return client.get(f"/c/{conversation.pk}/updates/", {"v": version, "visible": "1"})


def polls(client, conversation):
    """Both polls from versions just handed out (which also lets the process know the login)."""
    list_v, thread_v = list_version(client), thread_version(client, conversation)
    return lambda: (list_poll(client, list_v), thread_poll(client, conversation, thread_v))


def assert_sent_to_login(response):
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_a_login_not_yet_known_is_checked_by_django_then_answered_from_one_statement(
    logged_in, conversation
):
    poll = polls(logged_in, conversation)
    known_sessions_clear()  # as in another web process, which has not seen this login
    with CaptureQueriesContext(connection) as queries:
        listed, threaded = poll()
    assert (listed.status_code, threaded.status_code) == (204, 204)
    first = len(queries)
    assert sum("django_session" in q["sql"] for q in queries) == 2  # Django's own loads
    with CaptureQueriesContext(connection) as queries:
        listed, threaded = poll()
    assert (listed.status_code, threaded.status_code) == (204, 204)
    assert len(queries) == 2 < first  # one statement each, the proof inside it
    assert all("django_session" in q["sql"] and "auth_user" in q["sql"] for q in queries)


def test_the_fast_answer_is_the_same_as_djangos(logged_in, conversation, agent):
    poll = polls(logged_in, conversation)
    known_sessions_clear()
    slow = poll()
    fast = poll()
    for before, after in zip(slow, fast, strict=True):
        assert after.status_code == before.status_code == 204
        assert dict(after.headers) == dict(before.headers)  # Vary: Cookie, presence, CSP
    assert fast[1]["X-Inbox-Presence"] == "[]"


@pytest.mark.parametrize(
    "end",
    [
        pytest.param(lambda agent: Session.objects.all().delete(), id="logged out elsewhere"),
        pytest.param(
            lambda agent: Session.objects.update(expire_date=timezone.now() - timedelta(1)),
            id="session expired",
        ),
        pytest.param(
            lambda agent: (agent.set_password("a new one"), agent.save()), id="password changed"
        ),
        pytest.param(
            lambda agent: type(agent).objects.filter(pk=agent.pk).update(is_active=False),
            id="deactivated",
        ),
        pytest.param(lambda agent: agent.delete(), id="deleted"),
    ],
)
def test_a_login_that_ended_is_sent_to_the_login_page_not_answered(
    logged_in, conversation, agent, end
):
    poll = polls(logged_in, conversation)
    assert [r.status_code for r in poll()] == [204, 204]  # answered fast
    end(agent)
    for response in poll():
        assert_sent_to_login(response)


def test_a_session_changed_since_is_checked_by_django_again(logged_in, conversation):
    poll = polls(logged_in, conversation)
    session = logged_in.session
    session["tz"] = "Europe/Paris"  # the same login, other data: not the row the proof knows
    session.save()
    with CaptureQueriesContext(connection) as queries:
        assert [r.status_code for r in poll()] == [204, 204]
    assert sum("django_session" in q["sql"] for q in queries) >= 2  # each proof failed
    with CaptureQueriesContext(connection) as queries:
        assert [r.status_code for r in poll()] == [204, 204]
    assert len(queries) == 2  # known again


def test_another_agents_known_login_is_no_key_to_a_session(client, logged_in, conversation, agent):
    poll = polls(logged_in, conversation)
    poll()
    # A cookie the process never saw authenticated (forged, or someone else's guess).
    client.cookies["sessionid"] = "x" * 32
    for response in poll():
        assert_sent_to_login(response)


def test_a_member_removed_from_the_account_gets_404_and_a_list_without_it(
    logged_in, conversation, account, agent
):
    list_v, thread_v = list_version(logged_in), thread_version(logged_in, conversation)
    assert list_poll(logged_in, list_v).status_code == 204
    account.members.remove(agent)
    assert thread_poll(logged_in, conversation, thread_v).status_code == 404
    listed = list_poll(logged_in, list_v)
    assert listed.status_code == 200
    assert f'data-id="{conversation.pk}"' not in listed.content.decode()


def test_a_conversation_of_another_account_is_404_even_with_its_version(
    client, conversation, agent
):
    other_account = AccountFactory()
    other = ConversationFactory(account=other_account)
    boss = UserFactory(username="boss", is_superuser=True)
    client.force_login(boss)
    version = thread_version(client, other)  # an admin's page handed it out
    client.force_login(agent)
    thread_version(client, conversation)  # the agent's login is known
    assert thread_poll(client, other, version).status_code == 404


def test_an_admin_demoted_is_answered_by_their_new_role(client, conversation):
    other = ConversationFactory(account=AccountFactory())
    boss = UserFactory(username="boss", is_superuser=True)
    client.force_login(boss)
    version = thread_version(client, other)
    assert thread_poll(client, other, version).status_code == 204
    type(boss).objects.filter(pk=boss.pk).update(is_superuser=False)
    assert thread_poll(client, other, version).status_code == 404


def test_a_new_message_still_renders_on_the_fast_path(logged_in, conversation):
    list_v, thread_v = list_version(logged_in), thread_version(logged_in, conversation)
    assert thread_poll(logged_in, conversation, thread_v).status_code == 204
    MessageFactory(conversation=conversation, text="Is my parcel on its way?")
    for response in (list_poll(logged_in, list_v), thread_poll(logged_in, conversation, thread_v)):
        assert response.status_code == 200
    assert (
        "Is my parcel on its way?"
        in thread_poll(logged_in, conversation, thread_v).content.decode()
    )
    assert Message.objects.filter(conversation=conversation).count() == 4


def test_a_request_that_changed_its_session_is_not_remembered(rf, agent, db):
    from django.contrib.sessions.backends.db import SessionStore

    request = rf.get("/")
    request.user = agent
    request.session = SessionStore()
    request.session["x"] = 1
    known_session_note(request, name="alice")  # no loaded data, modified: nothing to prove it by
    from common import known_sessions

    assert known_sessions._known == {}


def test_a_presence_note_on_the_fast_path_names_the_agent(client, logged_in, conversation):
    colleague = UserFactory(username="bob", first_name="Bob")
    conversation.account.members.add(colleague)
    poll = polls(logged_in, conversation)
    poll()
    from django.test import Client

    other = Client()
    other.force_login(colleague)
    version = thread_version(other, conversation)
    thread_poll(other, conversation, version)  # known now
    response = other.get(f"/c/{conversation.pk}/updates/", {"v": version, "typing": "1"})
    assert response.status_code == 204
    _, threaded = poll()
    assert threaded.status_code == 204
    assert threaded["X-Inbox-Presence"] == '[{"name": "Bob", "typing": true}]'


def test_with_the_cache_unreachable_the_polls_go_on_without_presence(
    logged_in, conversation, settings, caplog
):
    settings.CACHES = {
        "default": {
            "BACKEND": "common.cache.KeptClientRedisCache",
            "LOCATION": "redis://127.0.0.1:6390/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    poll = polls(logged_in, conversation)
    listed, threaded = poll()
    assert (listed.status_code, threaded.status_code) == (204, 204)
    assert threaded["X-Inbox-Presence"] == "[]"
    MessageFactory(conversation=conversation, text="Still there?")
    listed, threaded = poll()
    assert (listed.status_code, threaded.status_code) == (200, 200)
    assert "Still there?" in threaded.content.decode()
    assert "the cache is unreachable" in caplog.text


def test_the_proof_never_carries_the_password_hash(logged_in, conversation, agent):
    poll = polls(logged_in, conversation)
    with CaptureQueriesContext(connection) as queries:
        assert [r.status_code for r in poll()] == [204, 204]
    assert len(queries) == 2
    agent.refresh_from_db()
    assert all(agent.password not in query["sql"] for query in queries)
