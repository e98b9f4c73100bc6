"""`GET /me/subscribed_apps` read into a typed answer, whatever shape Meta sends."""

import pytest

from instagram.answers import SubscribedApps
from instagram.client import SUBSCRIBED_FIELDS, subscription_missing
from tests.fixtures import meta_fixture


def test_it_reads_the_complete_fixture():
    apps = SubscribedApps.read(meta_fixture("graph", "subscribed_apps_complete"))
    assert [app.app_id for app in apps.apps] == ["1234567890123456"]
    assert subscription_missing(apps.fields_of()) == []


def test_it_lists_what_the_incomplete_fixture_lacks():
    apps = SubscribedApps.read(meta_fixture("graph", "subscribed_apps_incomplete"))
    assert subscription_missing(apps.fields_of()) == [
        "message_reactions",
        "messaging_postbacks",
        "messaging_referral",
        "messaging_optins",
    ]


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"data": []},
        {"data": None},
        {"data": [{"id": "1", "name": "No fields"}]},  # subscribed, no field
        {"data": [{"subscribed_fields": "messages"}]},
        {"data": ["messages", 3]},
    ],
)
def test_odd_answers_mean_nothing_subscribed(answer):
    fields = SubscribedApps.read(answer).fields_of()
    assert subscription_missing(fields) == SUBSCRIBED_FIELDS.split(",")


def test_our_app_is_picked_out_when_meta_lists_several():
    apps = SubscribedApps.read(
        {
            "data": [
                {"id": "999", "subscribed_fields": SUBSCRIBED_FIELDS.split(",")},
                {"id": "42", "subscribed_fields": ["messages", 7]},
            ]
        }
    )
    assert apps.fields_of(app_id="42") == frozenset({"messages"})
    # An id Meta does not list: every app's fields count.
    assert subscription_missing(apps.fields_of(app_id="nope")) == []
