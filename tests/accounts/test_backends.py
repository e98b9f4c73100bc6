"""Loading the logged-in agent on each request: one plain statement, the password checked
once, sessions from before still valid; sessions read from the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.sessions import SessionStore
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"  # the factories' password


def test_it_logs_in_with_the_agent_backend_and_loads_the_agent_each_request(client):
    UserFactory(username="alice")
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "accounts.backends.AgentBackend"
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert 'FROM "auth_user" WHERE "id" = ' in queries[1]["sql"]


def test_a_wrong_password_is_refused_and_checked_by_no_second_backend(client):
    from unittest import mock

    from django.contrib.auth.hashers import MD5PasswordHasher

    UserFactory(username="alice")
    with mock.patch.object(
        MD5PasswordHasher, "verify", autospec=True, side_effect=MD5PasswordHasher.verify
    ) as verify:
        response = client.post("/login/", {"username": "alice", "password": "wrong-guess"})
    assert response.status_code == 200
    assert verify.call_count == 1


def test_a_session_signed_in_before_the_agent_backend_still_loads_its_agent(client):
    alice = UserFactory(username="alice")
    store = SessionStore()
    store[SESSION_KEY] = str(alice.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = alice.get_session_auth_hash()
    store.create()
    client.cookies["sessionid"] = store.session_key
    assert client.get("/").status_code == 200


def test_an_inactive_agent_is_not_loaded(client):
    alice = UserFactory(username="alice")
    client.force_login(alice)
    alice.is_active = False
    alice.save()
    assert client.get("/").status_code == 302


def test_a_session_is_read_from_the_database_until_it_expires(client):
    alice = UserFactory(username="alice")
    client.force_login(alice)
    key = client.session.session_key
    assert SessionStore(key).load()[SESSION_KEY] == str(alice.pk)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    store = SessionStore(key)
    assert store.load() == {}
    assert store.session_key is None
    assert client.get("/").status_code == 302
