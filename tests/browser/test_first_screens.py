"""The first screens: a manager is told where the conversations are; in the sandbox, the
empty inbox points to the customer simulator."""

import pytest
from django.contrib.auth.models import Group

from accounts.roles import MANAGERS_GROUP
from tests.factories import UserFactory

from .conftest import log_in
from .themes import fits_the_screen, themed_fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

themed = themed_fixture()


@pytest.fixture
def manager(db):
    user = UserFactory(username="maria", is_staff=True)
    user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    return user


def test_a_manager_is_told_where_the_conversations_are(themed, manager, conversation):
    page = themed
    log_in(page, "maria")
    guide = page.locator(".rows-guide")
    assert "No conversations here yet" not in page.locator("#conv-list").inner_text()
    assert "You manage the team" in guide.inner_text()
    assert fits_the_screen(page)
    guide.locator("a", has_text="admin").click()
    page.wait_for_url("**/admin/inbox/conversation/")
    assert "Jane Doe" in page.locator("#result_list").inner_text()


def test_an_agent_with_nothing_yet_is_not_sent_to_admin(themed, account):
    account.members.add(UserFactory(username="alice"))
    log_in(themed)
    assert themed.locator(".rows-guide").count() == 0
    assert "No conversations here yet" in themed.locator("#conv-list").inner_text()


def test_the_empty_sandbox_inbox_points_to_the_simulator(themed, live_server, settings):
    from sandbox.account import sandbox_account_sync

    settings.SANDBOX_ENABLED = True
    settings.SITE_URL = live_server.url
    sandbox_account_sync()
    UserFactory(username="root", is_superuser=True, is_staff=True)
    page = themed
    log_in(page, "root")
    page.locator("#conv-list a", has_text="Customer simulator").click()
    page.wait_for_url("**/sandbox/")
    assert fits_the_screen(page)
