from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from accounts.roles import MANAGERS_GROUP

from .factories import AccountFactory, UserFactory

CHROMIUM = Path("/usr/bin/chromium")

# Fixtures of the outbound send tests (a fake Meta, a fresh rate limiter per test).
pytest_plugins = ["tests.inbox.outbound.sendkit"]


# --- no test reaches the network ------------------------------------------------------
# Every connection a test opens must stay on this machine: the database, Redis, the live
# server, the local fakes of Meta. Meta itself is faked at the requests layer (`fake_meta`)
# or by a local server. A connection or name look-up for anything else is refused and
# recorded, and the test fails even if the code under test swallowed the error.
_LOCAL_NAMES = frozenset({"localhost", "testserver", "localhost.localdomain"})
_network_attempts: list[str] = []


def _is_local(host: object) -> bool:
    if not isinstance(host, str | bytes):
        return True  # not an internet address (a unix socket's path, say)
    name = host.decode() if isinstance(host, bytes) else host
    if name.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _refuse(what: str) -> OSError:
    _network_attempts.append(what)
    return OSError(f"tests may not reach the network: {what}")


def _guard_network() -> None:
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            raise _refuse(f"connect to {address[0]}:{address[1]}")
        return real_connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            raise _refuse(f"connect to {address[0]}:{address[1]}")
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _is_local(host):
            raise _refuse(f"look up {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo


def pytest_configure(config):
    _guard_network()


@pytest.fixture(autouse=True)
def no_network():
    """Fails the test that tried to leave the machine (the guard itself is process-wide,
    threads and fixtures included)."""
    _network_attempts.clear()
    yield
    attempts, _network_attempts[:] = list(_network_attempts), []
    assert not attempts, f"the test tried to reach the network: {attempts}"


def pytest_collection_modifyitems(config, items):
    """`postgres` tests run only against PostgreSQL; `redis` tests only with REDIS_URL;
    `browser` tests need Debian's Chromium, which CI (REQUIRE_BROWSER=1) must have."""
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    has_chromium = CHROMIUM.exists()
    if not has_chromium and os.environ.get("REQUIRE_BROWSER"):
        raise pytest.UsageError(f"REQUIRE_BROWSER is set but {CHROMIUM} is missing")
    for item in items:
        if "browser" in item.keywords and not has_chromium:
            item.add_marker(pytest.mark.skip(reason=f"needs {CHROMIUM} (apt-get install chromium)"))
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL)"))
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="needs Redis (REDIS_URL)"))


@pytest.fixture(autouse=True)
def graph_connections_closed():
    """No connection of the shared Graph session outlives a test: one kept alive to the live
    server (the sandbox's fake Meta) would keep a database session open past the test
    database's teardown."""
    yield
    from instagram.client import shared_session_close

    shared_session_close()


@pytest.fixture
def account(db):
    return AccountFactory()


@pytest.fixture
def agent(db, account):
    """An agent who is a member of `account`."""
    user = UserFactory(username="alice")
    account.members.add(user)
    return user


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def manager(db):
    user = UserFactory(username="maria", is_staff=True)
    user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    return user


@pytest.fixture
def vendor():
    return connection.vendor


@pytest.fixture
def fake_meta():
    """Meta's Graph API faked at the requests layer: an unexpected call fails, none leaves."""
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """Post a signed webhook and run what it queues on commit (eager Celery in tests), as
    Meta and a worker would. Returns the response."""
    from tests.webhooks import post_signed

    def _deliver(payload, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post_signed(client, payload, **kwargs)

    return _deliver


@pytest.fixture(autouse=True)
def process_memos_cleared():
    """What a process remembers between requests (logins it has checked, agents it has
    recently marked online) starts empty in each test, as in a new process."""
    from common import cache
    from common.compiled import compiled_clear
    from common.known_sessions import known_sessions_clear
    from inbox.selectors import shared_pages_clear
    from inbox.services.presence import presence_memo_clear

    known_sessions_clear()
    presence_memo_clear()
    shared_pages_clear()
    compiled_clear()
    cache._down_logged.clear()
