"""Fakes of Meta's OAuth and Graph endpoints (`responses`: nothing reaches the network)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.fixtures import meta_fixture

GRAPH = "https://graph.instagram.com/v24.0"
GRAPH_ROOT = "https://graph.instagram.com"
TOKEN_URL = "https://api.instagram.com/oauth/access_token"

SHORT_TOKEN = "IGAAshortLivedToken1234567890abcdefghijklmnop"
LONG_TOKEN = "IGAAlongLivedToken0987654321zyxwvutsrqponmlkjih"
REFRESHED_TOKEN = "IGAArefreshedToken5555555555aaaaabbbbbcccccddddd"
ME_USER_ID = "17841400123456789"
EXCHANGE_USER_ID = "9100000000000001"


def payload(name: str) -> dict:
    """One of Meta's Graph or OAuth answers (tests/fixtures/graph/)."""
    return meta_fixture("graph", name)


def meta_connect(
    meta,
    *,
    exchange: dict | None = None,
    long_lived: dict | None = None,
    me: dict | None = None,
    subscribed: dict | None = None,
    graph: str = GRAPH,
    graph_root: str = GRAPH_ROOT,
    token_url: str = TOKEN_URL,
) -> None:
    """Meta's answers for one successful connect (override one to make its step fail)."""
    meta.post(token_url, json=exchange or payload("exchange_flat"))
    meta.get(f"{graph_root}/access_token", json=long_lived or payload("long_lived"))
    meta.get(f"{graph}/me", json=me or payload("me"))
    meta.post(f"{graph}/me/subscribed_apps", json=subscribed or payload("subscribed"))


def start_connect(client, *, account_id: int | None = None) -> str:
    """Press "connect" and return the state the authorize URL carries."""
    url = "/accounts/instagram/connect/"
    if account_id:
        url += f"?account={account_id}"
    response = client.get(url)
    assert response.status_code == 302, response
    return query_of(response["Location"])["state"]


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def callback(client, *, follow=False, **params):
    return client.get("/accounts/instagram/callback/", params, follow=follow)


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []
