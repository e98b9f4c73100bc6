"""Content-Security-Policy: on every kind of page, scripts only from our static files, never
framed; and no template carries what such a policy would block."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from sandbox.account import sandbox_account_sync
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db

TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates"] + [
    Path(settings.BASE_DIR) / app / "templates" for app in ("accounts", "inbox", "sandbox")
]
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>\s*\S", re.I)
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {
        name: sources
        for name, *sources in (part.split() for part in policy.split(";") if part.strip())
    }


def assert_strict(response) -> dict[str, list[str]]:
    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "https:" in policy["img-src"]
    assert "https:" in policy["media-src"]
    return policy


def test_it_sends_the_policy_on_the_login_page(client):
    policy = assert_strict(client.get("/login/"))
    assert policy["style-src"] == ["'self'"]
    assert "style-src-attr" not in policy


def test_it_sends_the_policy_on_the_inbox_and_a_thread(client, agent, account):
    conversation = ConversationFactory(account=account)
    client.force_login(agent)
    for path in ("/", f"/c/{conversation.pk}/"):
        policy = assert_strict(client.get(path))
        assert "style-src-attr" not in policy


def test_it_sends_the_policy_on_htmx_fragments(client, agent, account):
    ConversationFactory(account=account)
    client.force_login(agent)
    assert_strict(client.get("/", HTTP_HX_REQUEST="true"))


def test_it_sends_the_policy_on_the_accounts_page(admin_client):
    assert_strict(admin_client.get("/accounts/"))


def test_admin_pages_may_use_style_attributes_but_no_inline_script(admin_client, account):
    conversation = ConversationFactory(account=account)
    for path in ("/admin/", f"/admin/inbox/conversation/{conversation.pk}/change/"):
        policy = assert_strict(admin_client.get(path))
        assert policy["style-src-attr"] == ["'unsafe-inline'"]
        assert policy["style-src"] == ["'self'"]


def test_it_sends_the_policy_on_the_sandbox_simulator(admin_client, settings):
    settings.SANDBOX_ENABLED = True
    sandbox_account_sync()
    assert_strict(admin_client.get("/sandbox/"))


def test_it_sends_the_policy_on_a_404_page(admin_client):
    response = admin_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_own_uploads_linked_by_site_url_may_show(client):
    policy = directives(client.get("/login/"))
    assert "http://testserver" in policy["img-src"]  # SITE_URL in the test settings
    assert "http://testserver" in policy["media-src"]


def test_no_template_has_inline_script_handlers_or_javascript_urls():
    templates = [path for folder in TEMPLATE_DIRS for path in folder.rglob("*.html")]
    assert len(templates) > 20
    for path in templates:
        text = path.read_text()
        assert not INLINE_SCRIPT.search(text), f"inline <script> in {path}"
        assert not HANDLER.search(text), f"on...= handler in {path}"
        assert "javascript:" not in text.lower(), f"javascript: URL in {path}"
        assert "style=" not in text, f"style attribute in {path} (the policy blocks it)"


def test_the_scan_catches_what_it_looks_for():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert INLINE_SCRIPT.search('<script type="module">\n go()</script>')
    assert not INLINE_SCRIPT.search('<script src="/static/js/inbox.js" defer></script>')
    assert HANDLER.search('<button class="x" onclick="go()">')
    assert not HANDLER.search('<a href="/c/1/" data-once="1">')
