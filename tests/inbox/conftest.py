import pytest


@pytest.fixture
def logged_in(client, agent):
    """The test client, logged in as `agent` (a member of `account`)."""
    client.force_login(agent)
    return client
