"""Meta's webhook signature, checked on the raw body."""

import pytest

from instagram.signature import sign, signature_is_valid

BODY = b'{"object":"instagram"}'


def test_it_accepts_a_signature_by_any_configured_secret():
    assert signature_is_valid(BODY, sign(BODY, "second"), ["first", "second"])
    assert signature_is_valid(
        BODY, sign(BODY, "first").upper().replace("SHA256=", "sha256="), ["first"]
    )


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha1=" + "0" * 40,
        "sha256=",
        "sha256=" + "é" * 64,  # not ASCII: must not raise
        "sha256=" + "\ud800" * 64,
        "sha256=" + "0" * 63,
        "sha256=" + "g" * 64,
    ],
)
def test_anything_but_a_valid_hex_digest_is_refused_without_raising(header):
    assert signature_is_valid(BODY, header, ["secret"]) is False


def test_no_secret_means_nothing_is_valid():
    assert not signature_is_valid(BODY, sign(BODY, ""), [""])
