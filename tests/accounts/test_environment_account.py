"""The account configured by environment variables exists after `migrate` and follows it."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import InstagramAccount
from accounts.signals import env_account_sync_after_migrate
from tests.factories import AccountFactory, ConversationFactory

pytestmark = pytest.mark.django_db

GATEWAY = "https://gateway.hookmyapp.test/v24.0"
SANDBOX = "https://sandbox.hookmyapp.test/v24.0"


@pytest.fixture
def own_account_env(settings):
    settings.INSTAGRAM_GRAPH_API_URL = GATEWAY
    settings.INSTAGRAM_USER_ID = "17841400000000001"
    settings.INSTAGRAM_ACCESS_TOKEN = "hmat_own_account_token_123"
    return settings


def migrate() -> str:
    out = StringIO()
    call_command("migrate", verbosity=1, stdout=out)
    return out.getvalue()


def test_it_creates_the_own_account_on_migrate(own_account_env):
    output = migrate()
    account = InstagramAccount.objects.get()
    assert account.ig_id == "17841400000000001"
    assert account.graph_api_url == GATEWAY
    assert account.access_token == "hmat_own_account_token_123"
    assert account.source == InstagramAccount.Source.ENV
    assert account.status == InstagramAccount.Status.ACTIVE
    assert account.can_send
    assert "Environment account 17841400000000001 created" in output
    assert "hmat_" not in output


def test_the_sandbox_pair_takes_precedence(own_account_env):
    own_account_env.INSTAGRAM_API_URL = SANDBOX
    own_account_env.INSTAGRAM_ACCOUNT_ID = "17841499999999999"
    migrate()
    account = InstagramAccount.objects.get()
    assert account.ig_id == "17841499999999999"
    assert account.graph_api_url == SANDBOX


def test_the_sandbox_pair_works_on_its_own(settings):
    settings.INSTAGRAM_API_URL = SANDBOX + "/"
    settings.INSTAGRAM_ACCOUNT_ID = "17841499999999999"
    settings.INSTAGRAM_ACCESS_TOKEN = "hmat_sandbox"
    migrate()
    account = InstagramAccount.objects.get()
    assert (account.ig_id, account.graph_api_url) == ("17841499999999999", SANDBOX)


def test_it_is_idempotent(own_account_env):
    migrate()
    first = InstagramAccount.objects.values().get()
    assert "Environment account" not in migrate()
    assert InstagramAccount.objects.values().get() == first


def test_it_follows_a_changed_token_and_base_url(own_account_env):
    migrate()
    own_account_env.INSTAGRAM_ACCESS_TOKEN = "hmat_rotated_token_456"
    own_account_env.INSTAGRAM_GRAPH_API_URL = "https://gateway2.hookmyapp.test/v25.0"
    assert "updated" in migrate()
    account = InstagramAccount.objects.get()
    assert account.access_token == "hmat_rotated_token_456"
    assert account.graph_api_url == "https://gateway2.hookmyapp.test/v25.0"


def test_a_new_account_id_replaces_the_previous_environment_account(own_account_env):
    migrate()
    old = InstagramAccount.objects.get()
    ConversationFactory(account=old)
    own_account_env.INSTAGRAM_USER_ID = "17841400000000002"
    migrate()
    old.refresh_from_db()
    assert old.status == InstagramAccount.Status.DISCONNECTED
    assert old.token_ciphertext == ""
    assert old.conversations.count() == 1
    new = InstagramAccount.objects.get(ig_id="17841400000000002")
    assert new.status == InstagramAccount.Status.ACTIVE


def test_a_new_token_clears_needs_reconnect_but_the_same_token_does_not(own_account_env):
    migrate()
    InstagramAccount.objects.update(
        status=InstagramAccount.Status.NEEDS_RECONNECT, status_reason="190"
    )
    migrate()
    assert InstagramAccount.objects.get().status == InstagramAccount.Status.NEEDS_RECONNECT
    own_account_env.INSTAGRAM_ACCESS_TOKEN = "hmat_new_token"
    migrate()
    account = InstagramAccount.objects.get()
    assert account.status == InstagramAccount.Status.ACTIVE
    assert account.status_reason == ""


def test_it_takes_over_an_account_known_from_oauth(own_account_env):
    account = AccountFactory(ig_id="17841400000000001", username="acme")
    migrate()
    account.refresh_from_db()
    assert account.source == InstagramAccount.Source.ENV
    assert account.graph_api_url == GATEWAY
    assert account.token_expires_at is None  # never refreshed
    assert account.username == "acme"


def test_nothing_happens_without_the_variables(settings):
    kept = AccountFactory(source=InstagramAccount.Source.ENV)
    migrate()
    assert list(InstagramAccount.objects.all()) == [kept]
    kept.refresh_from_db()
    assert kept.status == InstagramAccount.Status.ACTIVE


def test_a_token_alone_names_no_account(settings):
    settings.INSTAGRAM_ACCESS_TOKEN = "hmat_orphan"
    migrate()
    assert not InstagramAccount.objects.exists()


def test_the_post_migrate_handler_syncs_and_ignores_other_databases(own_account_env):
    env_account_sync_after_migrate(using="other", verbosity=0)
    assert not InstagramAccount.objects.exists()
    env_account_sync_after_migrate(using="default", verbosity=0)
    assert InstagramAccount.objects.count() == 1
