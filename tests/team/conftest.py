import pytest
from django.utils import timezone

from tests.factories import ConversationFactory, UserFactory


@pytest.fixture
def conversation(account):
    return ConversationFactory(
        account=account, customer_name="Zoë Martin", customer_username="zoe.m"
    )


@pytest.fixture
def logged_in(client, agent, django_capture_on_commit_callbacks):
    """A client whose posts also run what they queue on commit (as a worker would)."""
    client.force_login(agent)
    post = client.post

    def post_and_commit(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post(*args, **kwargs)

    client.post = post_and_commit
    return client


@pytest.fixture
def colleague(account):
    user = UserFactory(username="bob", first_name="Bob")
    account.members.add(user)
    return user


@pytest.fixture
def now():
    return timezone.now()
