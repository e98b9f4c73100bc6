import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.roles import MANAGERS_GROUP
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


def test_it_makes_a_manager_who_may_view_admin_and_work_the_named_accounts(capsys):
    account = AccountFactory()
    call_command(
        "createagent", "boss", "--password", "pw-123456", "--manager", "--account", account.ig_id
    )
    boss = User.objects.get(username="boss")
    assert boss.is_staff
    assert not boss.is_superuser
    assert list(boss.groups.values_list("name", flat=True)) == [MANAGERS_GROUP]
    assert boss.has_perm("inbox.view_message")
    assert not boss.has_perm("inbox.change_message")
    assert list(boss.instagram_accounts.all()) == [account]
    assert "Created manager boss (accounts: " in capsys.readouterr().out


def test_it_makes_an_existing_agent_a_manager_once():
    call_command("createagent", "boss", "--password", "pw-123456")
    call_command("createagent", "boss", "--manager")
    call_command("createagent", "boss", "--manager")
    boss = User.objects.get(username="boss")
    assert boss.check_password("pw-123456")
    assert boss.groups.filter(name=MANAGERS_GROUP).count() == 1
    assert boss.is_staff


def test_it_refuses_admin_and_manager_together():
    with pytest.raises(CommandError, match="not allowed with argument"):
        call_command("createagent", "boss", "--password", "pw-123456", "--admin", "--manager")
    assert not User.objects.filter(username="boss").exists()


def test_it_refuses_to_make_an_admin_a_manager():
    call_command("createagent", "root", "--password", "pw-123456", "--admin")
    with pytest.raises(CommandError, match="root is an admin"):
        call_command("createagent", "root", "--manager")
    assert not User.objects.get(username="root").groups.exists()
