from __future__ import annotations

import pytest
import responses


@pytest.fixture
def meta():
    """Meta faked at the `requests` layer: every call is answered by what the test
    registers, and anything else fails (nothing reaches the network)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client
