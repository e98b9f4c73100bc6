"""Connect and refresh over real HTTP against a fake Meta on 127.0.0.1: the real transport,
and the real logging set-up: urllib3 (whose request lines carry tokens) stays quiet even at
DEBUG, and whatever else is printed is redacted."""

import json
import logging
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
import time_machine
from django.utils import timezone

from accounts.models import InstagramAccount
from accounts.refresh import RefreshOutcome, tokens_refresh
from config.logging import RedactSecretsFilter

from .fakes import LONG_TOKEN, REFRESHED_TOKEN, SHORT_TOKEN, callback, payload, start_connect

pytestmark = pytest.mark.django_db

ROUTES = {
    ("POST", "/oauth/access_token"): "exchange_wrapped",
    ("GET", "/access_token"): "long_lived",
    ("GET", "/v24.0/me"): "me",
    ("POST", "/v24.0/me/subscribed_apps"): "subscribed",
    ("GET", "/refresh_access_token"): "refresh",
}


class FakeMeta(BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        name = ROUTES.get((self.command, self.path.split("?", 1)[0]))
        body = json.dumps(payload(name) if name else {"error": {"code": 100}}).encode()
        self.send_response(200 if name else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = answer

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_meta(settings):
    server = None
    for port in range(18310, 18320):
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), FakeMeta)
            break
        except OSError:
            continue
    assert server, "no free port in 18310-18319"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    settings.INSTAGRAM_GRAPH_API_URL = f"{base}/v24.0"
    settings.INSTAGRAM_OAUTH_TOKEN_URL = f"{base}/oauth/access_token"
    yield base
    server.shutdown()
    server.server_close()


@pytest.fixture
def console(caplog):
    """What the production console handler would print, at DEBUG."""
    caplog.set_level(logging.DEBUG)
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecretsFilter())
    root = logging.getLogger()
    root.handlers.insert(0, handler)
    yield stream
    root.removeHandler(handler)


def test_connect_and_refresh_over_real_http_print_no_token(admin_client, fake_meta, console):
    callback(admin_client, code="AQDliveCode#_", state=start_connect(admin_client))
    account = InstagramAccount.objects.get()
    assert account.access_token == LONG_TOKEN
    assert account.graph_api_url == f"{fake_meta}/v24.0"

    with time_machine.travel(timezone.now() + timedelta(days=31)):
        [result] = tokens_refresh()
    assert result.outcome == RefreshOutcome.REFRESHED
    account.refresh_from_db()
    assert account.access_token == REFRESHED_TOKEN

    output = console.getvalue()
    assert "token refresh account" in output  # the console saw the round trip...
    assert "refresh_access_token?" not in output  # ...but no request line with its query
    for secret in (SHORT_TOKEN, LONG_TOKEN, REFRESHED_TOKEN, "AQDliveCode", "test-app-secret"):
        assert secret not in output
