import json
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError

from instagram.answers import SentMessage, TokenGrant
from instagram.client import GraphClient, host_root
from instagram.errors import (
    AuthError,
    GraphError,
    PermanentError,
    RateLimitedError,
    TransientError,
)

BASE = "https://graph.instagram.com/v24.0"
TOKEN = "IGAAsecrettokenvalue0123456789abcdef"
IG_ID = "17841400000000001"
SEND_URL = f"{BASE}/{IG_ID}/messages"
BODY = {"recipient": {"id": "900"}, "message": {"text": "hi"}}


@pytest.fixture
def client():
    return GraphClient(base_url=BASE, token=TOKEN, timeout=(1.0, 2.0))


def graph_error(code, subcode=None, message="boom", **extra):
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC"}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    return {"error": error}


def send_and_catch(client, status, body=None, headers=None):
    if body is None:
        responses.add(responses.POST, SEND_URL, status=status, headers=headers)
    elif isinstance(body, str):
        responses.add(responses.POST, SEND_URL, status=status, body=body, headers=headers)
    else:
        responses.add(responses.POST, SEND_URL, status=status, json=body, headers=headers)
    with pytest.raises(GraphError) as caught:
        client.send_message(ig_id=IG_ID, body=BODY)
    return caught.value


# --- success ------------------------------------------------------------------------


@responses.activate
def test_it_posts_a_message_with_the_bearer_token_and_a_timeout(client):
    responses.add(responses.POST, SEND_URL, json={"recipient_id": "900", "message_id": "aWdfmid"})
    answer = client.send_message(ig_id=IG_ID, body=BODY)
    assert answer == SentMessage(message_id="aWdfmid", recipient_id="900")
    call = responses.calls[0]
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert json.loads(call.request.body) == BODY
    assert call.request.req_kwargs["timeout"] == (1.0, 2.0)


@responses.activate
def test_it_sends_through_a_gateway_with_its_own_token():
    gateway = GraphClient(base_url="http://gateway.test/v24.0/", token="hmat_abc123")
    responses.add(
        responses.POST,
        "http://gateway.test/v24.0/178/messages",
        json={"recipient_id": "9", "message_id": "m1"},
    )
    gateway.send_message(ig_id="178", body=BODY)
    assert responses.calls[0].request.headers["Authorization"] == "Bearer hmat_abc123"


def test_every_call_has_a_default_timeout():
    assert GraphClient(base_url=BASE).timeout == (3.05, 15.0)


@responses.activate
def test_it_reads_profiles_me_and_subscriptions(client):
    responses.add(responses.GET, f"{BASE}/900", json={"name": "Ann", "follower_count": "12"})
    responses.add(responses.GET, f"{BASE}/me", json={"user_id": int(IG_ID), "username": "acme"})
    responses.add(responses.POST, f"{BASE}/me/subscribed_apps", json={"success": True})
    responses.add(responses.DELETE, f"{BASE}/me/subscribed_apps", json={"success": True})
    profile = client.get_user_profile(igsid="900")
    assert (profile.name, profile.username, profile.follower_count) == ("Ann", "", 12)
    assert profile.is_verified is None  # absent, not False
    me = client.get_me()
    assert (me.user_id, me.username, me.name) == (IG_ID, "acme", "")
    assert client.subscribe_app() is True
    assert client.unsubscribe_app() is None
    assert "is_verified_user" in responses.calls[0].request.params["fields"]
    assert "user_id" in responses.calls[1].request.params["fields"]
    assert "messages" in responses.calls[2].request.params["subscribed_fields"]


@responses.activate
def test_token_exchange_and_refresh_go_to_the_host_without_the_version(client):
    responses.add(
        responses.GET, "https://graph.instagram.com/access_token", json={"access_token": "L"}
    )
    responses.add(
        responses.GET,
        "https://graph.instagram.com/refresh_access_token",
        json={"access_token": "R", "expires_in": 5184000},
    )
    assert client.exchange_long_lived_token(client_secret="shh") == TokenGrant("L", None)
    assert client.refresh_long_lived_token() == TokenGrant("R", 5184000)
    exchange, refresh = responses.calls
    assert exchange.request.params == {
        "grant_type": "ig_exchange_token",
        "client_secret": "shh",
        "access_token": TOKEN,
    }
    assert refresh.request.params["grant_type"] == "ig_refresh_token"
    # The token travels as a parameter here, never also as a header.
    assert "Authorization" not in exchange.request.headers


@pytest.mark.parametrize(
    "answer",
    [
        {"access_token": "short", "user_id": 42},
        {"data": [{"access_token": "short", "user_id": 42}]},
    ],
)
@responses.activate
def test_the_code_exchange_accepts_flat_and_wrapped_answers(answer):
    url = "https://api.instagram.com/oauth/access_token"
    responses.add(responses.POST, url, json=answer)
    result = GraphClient(base_url=BASE).exchange_code(
        token_url=url, client_id="1", client_secret="s", redirect_uri="https://x/cb", code="c"
    )
    assert result == TokenGrant("short", None, user_id="42")
    assert "grant_type=authorization_code" in responses.calls[0].request.body


@responses.activate
def test_the_code_exchange_flat_error_shape_is_a_permanent_error():
    url = "https://api.instagram.com/oauth/access_token"
    responses.add(
        responses.POST,
        url,
        status=400,
        json={
            "error_type": "OAuthException",
            "code": 400,
            "error_message": "Invalid authorization code",
        },
    )
    with pytest.raises(PermanentError) as caught:
        GraphClient(base_url=BASE).exchange_code(
            token_url=url, client_id="1", client_secret="s", redirect_uri="https://x", code="c"
        )
    assert caught.value.message == "Invalid authorization code"


def test_host_root_strips_only_the_version_segment():
    assert host_root("https://graph.instagram.com/v24.0") == "https://graph.instagram.com"
    assert host_root("http://gateway.test/ig/v21.0/") == "http://gateway.test/ig"
    assert host_root("http://gateway.test/ig") == "http://gateway.test/ig"


# --- the error classes --------------------------------------------------------------


@pytest.mark.parametrize("subcode", [None, 458, 459, 460, 463, 464, 467, 492])
@responses.activate
def test_code_190_is_an_auth_error_with_any_subcode(client, subcode):
    error = send_and_catch(client, 400, graph_error(190, subcode))
    assert type(error) is AuthError
    assert not error.retryable
    assert error.code_label == ("190" if subcode is None else f"190/{subcode}")
    assert error.fbtrace_id == "AbC"


@responses.activate
def test_a_bare_401_is_an_auth_error(client):
    assert type(send_and_catch(client, 401, "Unauthorized")) is AuthError


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, graph_error(4)),
        (400, graph_error(17)),
        (400, graph_error(32)),
        (400, graph_error(613)),
        (400, graph_error(80002)),
        (400, graph_error(80006)),
        (429, None),
        (429, graph_error(4)),
    ],
)
@responses.activate
def test_throttling_is_a_rate_limited_error(client, status, body):
    error = send_and_catch(client, status, body)
    assert type(error) is RateLimitedError
    assert error.retryable


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, None),
        (502, "<html>Bad gateway</html>"),
        (503, graph_error(2, message="Service temporarily unavailable")),
        (504, None),
        (500, graph_error(1, message="An unknown error occurred")),
        (400, graph_error(1)),
        (400, graph_error(2)),
        (400, graph_error(1200, message="Temporary send message failure")),
        (400, graph_error(100, is_transient=True)),
    ],
)
@responses.activate
def test_server_failures_and_transient_codes_are_transient_errors(client, status, body):
    error = send_and_catch(client, status, body)
    assert type(error) is TransientError
    assert error.retryable
    assert not error.maybe_delivered


@pytest.mark.parametrize(
    ("status", "body", "label"),
    [
        (400, graph_error(10, 2534022), "10/2534022"),
        (400, graph_error(10, 2018278), "10/2018278"),
        (403, graph_error(10), "10"),
        (400, graph_error(100), "100"),
        (400, graph_error(100, 2018001), "100/2018001"),
        (400, graph_error(551), "551"),
        (400, graph_error(1545041), "1545041"),
        (403, graph_error(200), "200"),
        (403, graph_error(230), "230"),
        (403, graph_error(250), "250"),
        (403, graph_error(299), "299"),
        (400, graph_error(368), "368"),
        (400, graph_error(100, is_transient=False), "100"),
        (404, "<html>Not found</html>", "http-404"),
        (400, {"error": {"message": "no code"}}, "http-400"),
    ],
)
@responses.activate
def test_other_refusals_are_permanent_errors(client, status, body, label):
    error = send_and_catch(client, status, body)
    assert type(error) is PermanentError
    assert not error.retryable
    assert error.code_label == label
    assert error.status == status


@responses.activate
def test_an_error_inside_a_200_answer_is_still_an_error(client):
    error = send_and_catch(client, 200, graph_error(100, 2018001))
    assert type(error) is PermanentError
    assert error.code_label == "100/2018001"


@responses.activate
def test_an_unreadable_success_on_a_write_may_have_been_delivered(client):
    error = send_and_catch(client, 200, "<html>ok</html>")
    assert type(error) is PermanentError
    assert error.maybe_delivered


# --- back-off hints -----------------------------------------------------------------


@responses.activate
def test_it_reads_retry_after_in_seconds(client):
    error = send_and_catch(client, 429, None, headers={"Retry-After": "17"})
    assert error.retry_after == 17.0
    assert error.backoff_hint == 17.0


@responses.activate
def test_it_reads_retry_after_as_an_http_date(client):
    when = datetime.now(UTC) + timedelta(seconds=90)
    error = send_and_catch(client, 503, None, headers={"Retry-After": format_datetime(when)})
    assert 85 <= error.retry_after <= 90


@responses.activate
def test_an_unreadable_retry_after_is_ignored(client):
    error = send_and_catch(client, 503, None, headers={"Retry-After": "soon"})
    assert error.retry_after is None
    assert error.backoff_hint is None


@responses.activate
def test_it_exposes_the_business_use_case_usage_on_errors(client):
    usage = {
        IG_ID: [
            {
                "type": "instagram",
                "call_count": 100,
                "total_cputime": 12,
                "total_time": 30,
                "estimated_time_to_regain_access": 4,
            }
        ]
    }
    error = send_and_catch(
        client,
        400,
        graph_error(80002),
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    assert type(error) is RateLimitedError
    assert error.usage.percent == 100
    assert error.usage.regain_after == 240
    assert error.backoff_hint == 240


@responses.activate
def test_it_exposes_app_usage_after_a_success(client):
    responses.add(
        responses.POST,
        SEND_URL,
        json={"recipient_id": "900", "message_id": "m"},
        headers={"X-App-Usage": '{"call_count": 92, "total_time": 40, "total_cputime": 5}'},
    )
    client.send_message(ig_id=IG_ID, body=BODY)
    assert client.last_usage.percent == 92
    assert client.last_usage.is_high
    assert client.last_usage.regain_after is None


@responses.activate
def test_malformed_usage_headers_are_ignored(client):
    responses.add(
        responses.POST,
        SEND_URL,
        json={"recipient_id": "900", "message_id": "m"},
        headers={"X-App-Usage": "{not json", "X-Business-Use-Case-Usage": '["x"]'},
    )
    client.send_message(ig_id=IG_ID, body=BODY)
    assert client.last_usage is None


# --- no answer at all ---------------------------------------------------------------


@responses.activate
def test_a_read_timeout_on_a_send_is_transient_and_may_have_been_delivered(client):
    responses.add(responses.POST, SEND_URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(TransientError) as caught:
        client.send_message(ig_id=IG_ID, body=BODY)
    assert caught.value.maybe_delivered
    assert caught.value.code_label == "timeout"


@responses.activate
def test_a_connect_timeout_never_reached_meta(client):
    responses.add(responses.POST, SEND_URL, body=requests.ConnectTimeout("no route"))
    with pytest.raises(TransientError) as caught:
        client.send_message(ig_id=IG_ID, body=BODY)
    assert not caught.value.maybe_delivered


@responses.activate
def test_a_refused_connection_never_reached_meta(client):
    refused = requests.ConnectionError(
        MaxRetryError(None, SEND_URL, NewConnectionError(None, "Connection refused"))
    )
    responses.add(responses.POST, SEND_URL, body=refused)
    with pytest.raises(TransientError) as caught:
        client.send_message(ig_id=IG_ID, body=BODY)
    assert not caught.value.maybe_delivered
    assert caught.value.code_label == "network"


@responses.activate
def test_a_dropped_connection_after_sending_may_have_been_delivered(client):
    responses.add(responses.POST, SEND_URL, body=requests.ConnectionError("Connection aborted"))
    with pytest.raises(TransientError) as caught:
        client.send_message(ig_id=IG_ID, body=BODY)
    assert caught.value.maybe_delivered


@responses.activate
def test_a_timeout_on_a_read_is_safe_to_repeat(client):
    responses.add(responses.GET, f"{BASE}/me", body=requests.ReadTimeout("slow"))
    with pytest.raises(TransientError) as caught:
        client.get_me()
    assert not caught.value.maybe_delivered


# --- secrets ------------------------------------------------------------------------


@responses.activate
def test_errors_and_logs_never_carry_the_token(client, caplog):
    responses.add(
        responses.GET,
        "https://graph.instagram.com/refresh_access_token",
        status=400,
        json=graph_error(190, 460),
    )
    caplog.set_level(logging.DEBUG, logger="instagram")
    with pytest.raises(AuthError) as caught:
        client.refresh_long_lived_token()
    assert TOKEN not in str(caught.value)
    assert TOKEN not in caplog.text
    assert "refresh_access_token" in caplog.text


@responses.activate
def test_it_reads_a_messages_attachments_with_the_mid_kept_whole_in_the_path(client):
    mid = "aWdf+ZAG1/faXRl=="
    responses.add(
        responses.GET,
        f"{BASE}/aWdf%2BZAG1%2FfaXRl%3D%3D",
        json={"attachments": {"data": [{"image_data": {"url": "https://cdn/new.jpg"}}]}},
    )
    answer = client.get_message_attachments(mid=mid)
    assert answer.attachments == ({"type": "image", "url": "https://cdn/new.jpg"},)
    assert responses.calls[0].request.params == {"fields": "attachments"}
