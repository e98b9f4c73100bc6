"""The sandbox's fake Meta keeps the sandbox account's webhook health check green."""

import pytest

from instagram.answers import SubscribedApps
from instagram.client import subscription_missing

pytestmark = pytest.mark.django_db


def test_it_answers_a_complete_subscription(client, sandbox_on, settings):
    response = client.get(
        "/sandbox/graph/v24.0/me/subscribed_apps",
        HTTP_AUTHORIZATION=f"Bearer {settings.SANDBOX_ACCESS_TOKEN}",
    )
    assert response.status_code == 200
    apps = SubscribedApps.read(response.json())
    assert apps.apps
    assert subscription_missing(apps.fields_of(app_id=settings.INSTAGRAM_CLIENT_ID)) == []
