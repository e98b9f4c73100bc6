"""The reports page and its CSV exports: who may see them, bad input, the contract's CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import override_settings

from inbox.services.labels import conversation_label_add, label_for_name
from tests.factories import ConversationFactory

from .kit import agent_replies, app_echo, close, customer_writes

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=3)
CONTRACT_COLUMNS = [
    "account",
    "customer_igsid",
    "first_customer_message_at",
    "first_response_at",
    "first_response_seconds",
    "resolved_at",
    "resolution_seconds",
    "assignee",
    "messages_in",
    "messages_out",
]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_anonymous_users_are_sent_to_log_in(client):
    for url in ("/reports/", "/reports/conversations.csv?since=2026-03-01&until=2026-03-02"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_agents_are_refused(client, agent):
    client.force_login(agent)
    assert client.get("/reports/").status_code == 403
    assert (
        client.get("/reports/conversations.csv?since=2026-03-01&until=2026-03-02").status_code
        == 403
    )
    assert client.get("/reports/agents.csv?since=2026-03-01&until=2026-03-02").status_code == 403
    assert b'href="/reports/"' not in client.get("/").content


@pytest.mark.parametrize("who", ["admin_user", "manager"])
def test_admins_and_managers_see_the_report_and_its_link(client, request, who, account, agent):
    conversation = ConversationFactory(account=account)
    customer_writes(conversation, T0)
    agent_replies(conversation, agent, written=T0, accepted=T0 + timedelta(minutes=4))
    client.force_login(request.getfixturevalue(who))

    response = client.get("/reports/?range=7d")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="/reports/"' in page
    assert 'id="fr-p50">4 min<' in page
    assert "How these are measured" in page
    assert '<script id="report-data" type="application/json">' in page
    assert "<script>" not in page  # no inline script: CSP
    assert 'src="/static/reports/vendor/chart.umd.min.js"' in page
    assert response["Content-Security-Policy"].startswith("default-src 'self'")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=2026-13-01&until=2026-03-02", "Enter a valid date."),
        ("since=2026-03-05&until=2026-03-01", "ends (2026-03-01) before it starts (2026-03-05)"),
        ("since=2020-01-01&until=2026-03-01", "at most 366 days"),
        ("range=custom&since=2026-03-05", "needs both dates"),
        ("since=1000-01-01&until=1000-01-02", "between the year 2000"),
        ("since=9999-12-30&until=9999-12-31", "between the year 2000"),
        ("since=2026-03-01&until=2026-03-02&account=99999", "Select a valid choice"),
        ("since=2026-03-01&until=2026-03-02&agent=abc", "Select a valid choice"),
    ],
)
def test_bad_filters_answer_400_with_what_is_wrong(client, admin_user, query, message):
    client.force_login(admin_user)

    page = client.get(f"/reports/?{query}")
    export = client.get(f"/reports/conversations.csv?{query}")

    assert page.status_code == 400
    assert message in page.content.decode().replace("&#x27;", "'")
    assert export.status_code == 400
    assert message in export.content.decode()


def test_the_csv_needs_its_dates(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/reports/conversations.csv")
    assert response.status_code == 200  # no dates: the last 7 days, like the page
    assert response["Content-Type"].startswith("text/csv")


def test_the_conversations_csv_follows_the_contract(client, admin_user, account, agent):
    answered = ConversationFactory(account=account, customer_igsid="111", assignee=agent)
    customer_writes(answered, T0)
    customer_writes(answered, T0 + timedelta(minutes=1))
    agent_replies(answered, agent, written=T0, accepted=T0 + timedelta(minutes=10))
    close(answered, agent, T0 + timedelta(hours=2))
    from_app = ConversationFactory(account=account, customer_igsid="222")
    customer_writes(from_app, T0 + timedelta(hours=1))
    app_echo(from_app, T0 + timedelta(hours=1, seconds=42))
    before = ConversationFactory(account=account, customer_igsid="333")
    customer_writes(before, T0 - timedelta(days=2))
    client.force_login(admin_user)

    response = client.get("/reports/conversations.csv?since=2026-03-02&until=2026-03-02")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    found = rows(response)
    assert list(found[0])[: len(CONTRACT_COLUMNS)] == CONTRACT_COLUMNS
    by_customer = {row["customer_igsid"]: row for row in found}
    assert set(by_customer) == {"111", "222"}
    first = by_customer["111"]
    assert first["account"] == account.username
    assert first["first_customer_message_at"] == "2026-03-02T09:00:00Z"
    assert first["first_response_at"] == "2026-03-02T09:10:00Z"
    assert first["first_response_seconds"] == "600"
    assert first["resolved_at"] == "2026-03-02T11:00:00Z"
    assert first["resolution_seconds"] == "7200"
    assert first["assignee"] == "alice"
    assert (first["messages_in"], first["messages_out"]) == ("2", "1")
    app = by_customer["222"]
    assert (app["first_response_seconds"], app["first_responder"]) == ("42", "Instagram app")
    assert (app["resolved_at"], app["resolution_seconds"], app["assignee"]) == ("", "", "")


def test_a_reopened_conversation_is_one_row_with_its_new_first_response(
    client, admin_user, account, agent
):
    conversation = ConversationFactory(account=account, customer_igsid="444")
    customer_writes(conversation, T0)
    agent_replies(conversation, agent, written=T0, accepted=T0 + timedelta(minutes=1))
    close(conversation, agent, T0 + timedelta(hours=1))
    reopening = T0 + timedelta(days=1)
    customer_writes(conversation, reopening)
    agent_replies(conversation, agent, written=reopening, accepted=reopening + timedelta(minutes=7))
    client.force_login(admin_user)

    [row] = rows(client.get("/reports/conversations.csv?since=2026-03-01&until=2026-03-04"))

    assert row["first_customer_message_at"] == "2026-03-03T09:00:00Z"
    assert row["first_response_seconds"] == "420"
    assert (row["episodes"], row["messages_in"], row["messages_out"]) == ("2", "2", "2")


@override_settings(TIME_ZONE="America/New_York")
def test_csv_days_are_local_and_its_times_utc(client, admin_user, account):
    conversation = ConversationFactory(account=account, customer_igsid="555")
    customer_writes(conversation, datetime(2026, 3, 2, 3, 30, tzinfo=UTC))  # 1 March, 22:30
    client.force_login(admin_user)

    [row] = rows(client.get("/reports/conversations.csv?since=2026-03-01&until=2026-03-01"))
    none = rows(client.get("/reports/conversations.csv?since=2026-03-02&until=2026-03-02"))

    assert row["first_customer_message_at"] == "2026-03-02T03:30:00Z"
    assert none == []


def test_the_agents_csv_has_one_row_per_agent(client, manager, account, agent):
    conversation = ConversationFactory(account=account, assignee=agent)
    customer_writes(conversation, T0)
    agent_replies(conversation, agent, written=T0, accepted=T0 + timedelta(minutes=2))
    client.force_login(manager)

    response = client.get("/reports/agents.csv?since=2026-03-02&until=2026-03-02")

    assert rows(response) == [
        {
            "agent": "alice",
            "conversations": "1",
            "replies": "1",
            "first_responses": "1",
            "median_first_response_seconds": "120",
            "open_now": "1",
        }
    ]


def test_presets_are_links_and_the_form_shows_the_dates_covered(client, admin_user, account):
    client.force_login(admin_user)

    page = client.get(f"/reports/?range=30d&account={account.pk}").content.decode()

    assert 'name="since" value="2026-02-04"' in page  # 30 days to 5 March
    assert 'name="until" value="2026-03-05"' in page
    assert f'href="?range=today&amp;account={account.pk}" class="preset"' in page
    assert f'href="?range=30d&amp;account={account.pk}" class="preset" aria-current="true"' in page
    custom = client.get("/reports/?since=2026-03-01&until=2026-03-02").content.decode()
    assert 'aria-current="true"' not in custom
    assert "1 Mar 2026 – 2 Mar 2026" in custom


def test_a_large_inbox_gets_its_first_summary_from_the_task(
    client, admin_user, account, agent, monkeypatch
):
    from reports import views
    from reports.models import Episode

    monkeypatch.setattr(views, "FIRST_BUILD_IN_REQUEST", 1)
    for igsid in ("601", "602"):
        customer_writes(ConversationFactory(account=account, customer_igsid=igsid), T0)
    client.force_login(admin_user)

    waiting = client.get("/reports/?range=7d")  # queues the build (run at once in tests)
    export = client.get("/reports/conversations.csv?since=2026-03-02&until=2026-03-02")

    assert waiting.status_code == 503
    assert waiting["Retry-After"] == "60"
    assert "being prepared" in waiting.content.decode()
    assert Episode.objects.count() == 2  # the task built it
    assert export.status_code == 200
    assert len(rows(export)) == 2


def test_a_label_narrows_the_report_and_its_csv(client, admin_user, account, agent):
    vip = label_for_name(name="VIP")
    labelled = ConversationFactory(account=account, customer_igsid="111")
    conversation_label_add(conversation=labelled, label=vip, actor=agent)
    customer_writes(labelled, T0)
    agent_replies(labelled, agent, written=T0, accepted=T0 + timedelta(minutes=5))
    other = ConversationFactory(account=account, customer_igsid="222")
    customer_writes(other, T0)
    label_for_name(name="Refund")
    client.force_login(admin_user)
    dates = "since=2026-03-02&until=2026-03-02"

    page = client.get(f"/reports/?{dates}&label=VIP")
    csv_rows = rows(client.get(f"/reports/conversations.csv?{dates}&label=vip"))
    everything = rows(client.get(f"/reports/conversations.csv?{dates}"))
    unknown = client.get(f"/reports/?{dates}&label=Nope")

    assert page.status_code == 200
    assert '<option value="VIP" selected>VIP</option>' in page.text
    assert "label=VIP" in page.text  # the exports keep the filter
    assert [row["customer_igsid"] for row in csv_rows] == ["111"]
    assert {row["customer_igsid"] for row in everything} == {"111", "222"}
    assert unknown.status_code == 400
    assert "There is no label of that name." in unknown.text
