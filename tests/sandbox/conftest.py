import pytest

from sandbox.account import sandbox_account_sync


@pytest.fixture
def sandbox_on(settings, db):
    settings.SANDBOX_ENABLED = True
    return sandbox_account_sync()
