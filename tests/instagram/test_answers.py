"""Meta's answers read into typed values: what is absent or oddly typed never raises."""

from datetime import UTC, datetime, timedelta

import pytest

from instagram.answers import MAX_FOLLOWERS, Me, Profile, SentMessage, TokenGrant

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_a_send_answer_without_a_message_id_reads_as_empty():
    assert SentMessage.read({"recipient_id": 900}) == SentMessage("", "900")
    assert SentMessage.read({"message_id": True}).message_id == ""


@pytest.mark.parametrize(
    ("followers", "expected"),
    [(12, 12), ("12", 12), ("-3", None), (-3, None), (True, None), ("many", None), (None, None)],
)
def test_a_profile_reads_follower_counts_from_numbers_and_digits_only(followers, expected):
    assert Profile.read({"follower_count": followers}).follower_count == expected


def test_a_profile_caps_followers_drops_nul_and_keeps_unknown_flags_unknown():
    profile = Profile.read(
        {
            "name": "Ann\x00 Lee",
            "username": 7,
            "follower_count": 10**12,
            "is_verified_user": "yes",
            "is_user_follow_business": False,
        }
    )
    assert profile.name == "Ann Lee"
    assert profile.username == ""
    assert profile.follower_count == MAX_FOLLOWERS
    assert profile.is_verified is None
    assert profile.follows_business is False


def test_me_takes_a_numeric_user_id_as_its_key():
    assert Me.read({"user_id": 17841400000000001}).user_id == "17841400000000001"
    assert Me.read({}) == Me("", "", "", "")


@pytest.mark.parametrize(
    ("expires_in", "expires_at"),
    [
        (5184000, NOW + timedelta(days=60)),
        ("3600", NOW + timedelta(hours=1)),
        (0, None),
        ("soon", None),
        (None, None),
    ],
)
def test_a_token_grant_knows_its_expiry_only_when_meta_gives_one(expires_in, expires_at):
    grant = TokenGrant.read({"access_token": "T", "expires_in": expires_in})
    assert grant.access_token == "T"
    assert grant.expires_at(now=NOW) == expires_at
