"""Login throttling: a few failures for a username or from an address, then refusals that
hash no password and say when to try again; other users still log in; admins see and clear
lock-outs. Every test runs twice: with axes alone (the default without a shared cache), and
with the gate that repeats axes' refusals from the cache (the default with Redis)."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock
from uuid import uuid4

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts import throttle
from accounts.throttle import client_ip
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"  # the factories' password
LIMIT = 5


@pytest.fixture(params=["axes alone", "with the gate"], autouse=True)
def gate(request, settings, monkeypatch):
    """The gate on, with a cache of its own (the configured backend, Redis in CI, under a key
    prefix of this test's): locks outlive the test's database, not its cache."""
    settings.LOGIN_LOCK_GATE = request.param == "with the gate"
    if settings.LOGIN_LOCK_GATE:
        config = {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid4().hex}"}
        own = import_string(config["BACKEND"])(config.get("LOCATION", ""), config)
        monkeypatch.setattr(throttle, "lock_cache", lambda: own)
    return settings.LOGIN_LOCK_GATE


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def hashes():
    """Every password hash computed (Django hashes a password for an unknown user too)."""
    with (
        mock.patch.object(
            MD5PasswordHasher, "verify", autospec=True, side_effect=MD5PasswordHasher.verify
        ) as verify,
        mock.patch.object(
            MD5PasswordHasher, "encode", autospec=True, side_effect=MD5PasswordHasher.encode
        ) as encode,
    ):
        yield lambda: verify.call_count + encode.call_count


def log_in(client, username, password=PASSWORD, address="10.0.0.1", path="/login/", **extra):
    return client.post(
        path, {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )


def fail(client, username="alice", times=LIMIT, **kwargs):
    return [log_in(client, username, "wrong-guess", **kwargs).status_code for _ in range(times)]


def test_it_refuses_further_tries_after_five_failures_and_says_when(client, alice):
    assert fail(client, times=LIMIT - 1) == [200] * (LIMIT - 1)  # the form again, with its error
    with time_machine.travel(timezone.now(), tick=False):
        locking = log_in(client, "alice", "wrong-guess")
        refused = log_in(client, "alice")  # even the right password, for now

    assert locking.status_code == refused.status_code == 429
    page = refused.content.decode()
    assert "Too many failed log-ins" in page
    assert "Try again in 15 minutes" in page
    assert refused["Retry-After"] == str(15 * 60)
    assert 'name="password"' in page  # the form is there for later
    assert "_auth_user_id" not in client.session


def test_it_hashes_no_password_for_a_refused_try(client, alice, hashes):
    fail(client)
    before = hashes()

    refused = [log_in(client, "alice").status_code for _ in range(20)]

    assert refused == [429] * 20
    assert hashes() == before


def test_it_hashes_no_password_for_a_refused_address_trying_other_usernames(client, hashes):
    for name in ["a", "b", "c", "d", "e"]:
        log_in(client, name, "wrong-guess")
    before = hashes()

    assert log_in(client, "someone-else", "another-guess").status_code == 429
    assert hashes() == before


def test_it_lets_another_user_log_in_from_another_address(client, alice, bob):
    fail(client, "alice", address="10.0.0.1")

    response = log_in(client, "bob", address="10.0.0.2")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(bob.pk)


def test_it_locks_a_guessed_username_from_every_address(client, alice):
    for n in range(LIMIT):
        log_in(client, "alice", "wrong-guess", address=f"10.0.1.{n}")

    assert log_in(client, "alice", address="10.0.2.1").status_code == 429


def test_it_locks_an_address_trying_many_usernames(client, bob):
    for n in range(LIMIT):
        log_in(client, f"guess{n}", "wrong-guess", address="10.0.0.1")

    assert log_in(client, "bob", address="10.0.0.1").status_code == 429
    assert log_in(client, "bob", address="10.0.0.2").status_code == 302


def test_it_lets_the_user_in_again_once_the_lockout_ends(client, alice):
    fail(client)

    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1)):
        assert log_in(client, "alice").status_code == 302


def test_it_throttles_the_admin_login_too(client, admin_user):
    statuses = fail(client, "root", path="/admin/login/")
    refused = log_in(client, "root", path="/admin/login/")

    assert statuses[-1] == refused.status_code == 429
    page = refused.content.decode()
    assert "Too many failed log-ins" in page
    assert 'value="/admin/"' in page  # back to admin once it is over
    assert log_in(client, "root", path="/login/").status_code == 429  # one count for both


def test_it_ignores_x_forwarded_for_without_a_configured_proxy(client, bob):
    for n in range(LIMIT):
        log_in(client, f"guess{n}", "wrong-guess", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    assert log_in(client, "bob", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.0.0.1"}


def test_it_counts_the_forwarded_address_behind_a_configured_proxy(client, bob, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(LIMIT):
        log_in(client, f"guess{n}", "wrong-guess", HTTP_X_FORWARDED_FOR="203.0.113.9")

    # The same proxy, another client: not locked out; the guesser is.
    assert log_in(client, "bob", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 302
    client.logout()
    assert log_in(client, "bob", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),
        (1, "", "10.0.0.1"),
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client wrote the left one
        (2, "6.6.6.6, 203.0.113.9, 10.1.1.1", "203.0.113.9"),
        (2, "203.0.113.9", "203.0.113.9"),  # fewer hops than proxies: the outermost
    ],
)
def test_it_takes_the_client_address_the_outermost_proxy_saw(
    settings, proxies, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().post(
        "/login/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
    )

    assert client_ip(request) == expected


def test_an_admin_sees_and_clears_a_lockout(client, alice, admin_user):
    fail(client, "alice")
    client.force_login(admin_user)

    listing = client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "alice" in listing.content.decode()

    attempt = AccessAttempt.objects.get(username="alice")
    cleared = client.post(
        f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert cleared.status_code == 200
    assert not AccessAttempt.objects.exists()

    client.logout()
    assert log_in(client, "alice").status_code == 302


def test_agents_and_managers_cannot_clear_lockouts(client, agent, manager, alice):
    fail(client, "alice")
    client.force_login(agent)
    assert client.get("/admin/axes/accessattempt/").status_code == 302  # to the admin login
    client.force_login(manager)
    assert client.get("/admin/axes/accessattempt/").status_code == 403
    assert AccessAttempt.objects.count() == 1


def test_the_gate_refuses_a_locked_try_without_the_database(client, alice, gate):
    if not gate:
        pytest.skip("the gate is off: axes refuses, from the database")
    for n in range(LIMIT):  # the username locked, none of the addresses
        log_in(client, "alice", "wrong-guess", address=f"10.0.1.{n}")
    client.get("/login/")  # a session and a CSRF cookie, as a browser has

    with CaptureQueriesContext(connection) as queries:
        refused = log_in(client, "alice", address="10.0.2.1")
    another_user = log_in(client, "nobody", "wrong-guess", address="10.0.1.0")

    assert refused.status_code == 429
    assert "Too many failed log-ins" in refused.text
    assert len(queries) == 0  # no session, no user, no axes query
    assert another_user.status_code == 200  # axes' own answer: the address is not locked


def test_the_gate_page_keeps_a_form_that_works_once_the_lock_ends(alice, gate):
    if not gate:
        pytest.skip("the gate is off")
    browser = Client(enforce_csrf_checks=True)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get("/login/").text)
    assert token
    data = {"csrfmiddlewaretoken": token.group(1), "username": "alice"}
    for n in range(LIMIT):
        browser.post("/login/", {**data, "password": f"guess-{n}"}, REMOTE_ADDR="10.0.0.1")

    refused = browser.post("/login/", {**data, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(15 * 60) or int(refused["Retry-After"]) > 14 * 60
    again = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', refused.text)
    assert again

    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1)):
        data["csrfmiddlewaretoken"] = again.group(1)
        welcome = browser.post("/login/", {**data, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert welcome.status_code == 302


def test_the_gate_forgets_a_lockout_an_admin_clears(client, alice, gate):
    if not gate:
        pytest.skip("the gate is off")
    fail(client)
    assert throttle.lockout_read(RequestFactory().post("/login/", {"username": "alice"}))

    AccessAttempt.objects.all().delete()

    assert throttle.lockout_read(RequestFactory().post("/login/", {"username": "alice"})) is None
    assert log_in(client, "alice").status_code == 302


def test_with_the_cache_unreachable_logins_go_on_and_axes_still_refuses(
    client, alice, bob, gate, monkeypatch, caplog
):
    """Redis down: the gate steps aside (logged once a minute), nothing answers 500, and the
    lock-outs are axes' own, from the database."""
    if not gate:
        pytest.skip("the gate is off: it reads no cache")
    config = {"LOCATION": "redis://127.0.0.1:6390/0", "OPTIONS": {"socket_connect_timeout": 0.2}}
    unreachable = import_string("common.cache.KeptClientRedisCache")(config["LOCATION"], config)
    monkeypatch.setattr(throttle, "lock_cache", lambda: unreachable)

    assert fail(client) == [200] * (LIMIT - 1) + [429]  # the lock handed to no gate
    refused = log_in(client, "alice")
    assert refused.status_code == 429
    assert "Too many failed log-ins" in refused.text
    assert log_in(Client(), "bob", address="10.0.0.2").status_code == 302
    AccessAttempt.objects.all().delete()  # an admin clears the lock-out
    assert log_in(Client(), "alice", address="10.0.0.3").status_code == 302
    for what in ("gate skipped", "not handed to the gate", "not cleared from the gate"):
        assert caplog.text.count(f"login lock {what}: the cache is unreachable") == 1
