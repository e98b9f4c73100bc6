"""With DEBUG off and no SANDBOX=true (the suite's production-like settings), the sandbox is
unreachable and no sandbox account exists."""

import pytest
from django.conf import settings

from accounts.models import InstagramAccount

pytestmark = pytest.mark.django_db

GRAPH = "/sandbox/graph/v24.0"
ROUTES = [
    ("get", "/sandbox/"),
    ("post", "/sandbox/customers/new/"),
    ("get", "/sandbox/customers/1/"),
    ("get", "/sandbox/customers/1/thread/"),
    ("post", "/sandbox/customers/1/send/"),
    ("post", "/sandbox/faults/"),
    ("post", "/sandbox/account/restore/"),
    ("get", "/sandbox/graph/access_token"),
    ("get", "/sandbox/graph/refresh_access_token"),
    ("get", f"{GRAPH}/me"),
    ("post", f"{GRAPH}/me/subscribed_apps"),
    ("post", f"{GRAPH}/17841400000000042/messages"),
    ("get", f"{GRAPH}/1234"),
]


def test_the_sandbox_is_off_in_a_production_like_configuration():
    assert settings.DEBUG is False
    assert settings.SANDBOX_ENABLED is False


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_sandbox_route_is_404(admin_client, method, path):
    headers = {"HTTP_AUTHORIZATION": "Bearer sandbox-token"}
    assert getattr(admin_client, method)(path, **headers).status_code == 404


def test_no_sandbox_account_exists_after_migrate():
    assert not InstagramAccount.objects.filter(ig_id=settings.SANDBOX_ACCOUNT_ID).exists()


def test_the_inbox_does_not_link_to_the_simulator(admin_client):
    assert "/sandbox/" not in admin_client.get("/").content.decode()
