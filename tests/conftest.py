from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from accounts.roles import MANAGERS_GROUP

from .factories import AccountFactory, UserFactory

CHROMIUM = Path("/usr/bin/chromium")

# Fixtures of the outbound send tests (a fake Meta, a fresh rate limiter per test).
pytest_plugins = ["tests.inbox.outbound.sendkit"]


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
