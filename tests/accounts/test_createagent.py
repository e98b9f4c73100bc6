import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_it_creates_an_agent_for_the_named_accounts(capsys):
    first, second, _other = AccountFactory(), AccountFactory(), AccountFactory()
    call_command(
        "createagent",
        "bob",
        "--password",
        "pw-123456",
        "--account",
        first.ig_id,
        "--account",
        second.ig_id,
    )
    bob = User.objects.get(username="bob")
    assert bob.check_password("pw-123456")
    assert set(bob.instagram_accounts.all()) == {first, second}
    assert not bob.is_superuser
    assert not bob.is_staff
    assert "Created agent bob" in capsys.readouterr().out


def test_it_updates_an_existing_agent():
    account = AccountFactory()
    call_command("createagent", "bob", "--password", "first-pass")
    call_command("createagent", "bob", "--password", "second-pass", "--account", account.ig_id)
    bob = User.objects.get(username="bob")
    assert bob.check_password("second-pass")
    assert list(bob.instagram_accounts.all()) == [account]
    assert User.objects.filter(username="bob").count() == 1


def test_it_makes_an_admin():
    call_command("createagent", "root", "--password", "pw-123456", "--admin")
    root = User.objects.get(username="root")
    assert root.is_superuser
    assert root.is_staff


def test_it_refuses_an_unknown_account():
    with pytest.raises(CommandError, match="No connected account with id 404"):
        call_command("createagent", "bob", "--password", "pw", "--account", "404")
    assert not User.objects.filter(username="bob").exists()


def test_it_needs_a_password_for_a_new_agent():
    with pytest.raises(CommandError, match="password"):
        call_command("createagent", "bob")
