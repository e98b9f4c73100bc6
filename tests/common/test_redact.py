"""Tokens and secrets never survive redaction, whatever text carries them."""

from common.redact import redact


def test_it_redacts_bearer_tokens_and_query_secrets():
    line = redact(
        "GET /refresh_access_token?grant_type=ig_refresh_token&access_token=IGAAabc123 "
        "Authorization: Bearer hmat_live_123 client_secret=shh"
    )
    assert "IGAAabc123" not in line
    assert "hmat_live_123" not in line
    assert "shh" not in line
    assert "grant_type=ig_refresh_token" in line


def test_it_redacts_instagram_token_shapes_anywhere():
    assert "IGAAT" not in redact("token is IGAATzzzzzzzzzzzzzzzzzzzzzzzzzzzzz ok")
